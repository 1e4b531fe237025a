/**
 * DELETE /batches/{id}, its glue against fake AWS clients (an in-memory bucket behind
 * ListObjectsV2, DeleteObjects, GetObject and PutObject; an execution behind DescribeExecution
 * and StopExecution): what it deletes, stops and answers for a batch not started, running,
 * finished or unknown; that a second DELETE answers the same; that a cancelled batch gets no
 * forms, no start and no results; and that a batch too large for one request answers 202.
 */
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import {
  DescribeExecutionCommand,
  type ExecutionStatus,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { BATCH_LIMITS } from '../../lambdas/shared/config.ts';
import { lambdaContext, restEvent } from '../support/events.ts';
import {
  BATCH_ID,
  LARGE_MACHINE,
  largeBatchConfig,
  largeBatchHandler,
} from '../support/large-batch.ts';

const MACHINE = LARGE_MACHINE;
const config = largeBatchConfig;
const ID = BATCH_ID;
const OTHER = '1c8f4d2f-6e3b-4d9f-8a21-3b4c5d6e7f80';
const EXECUTION_ARN = `${MACHINE.replace(':stateMachine:', ':execution:')}:${ID}`;
const sfnMock = mockClient(SFNClient);
const s3Mock = mockClient(S3Client);
const handler = largeBatchHandler(config);

const call = async (method: string, path: string) => {
  const event = restEvent({ method, path, headers: {}, body: undefined, base64: false });
  const res = (await handler(event as never, lambdaContext())) as APIGatewayProxyResult;
  // biome-ignore lint/suspicious/noExplicitAny: a JSON answer, which the assertions look into
  return { ...res, json: JSON.parse(res.body) as Record<string, any> };
};

/** The bucket, key → body, listed in key order as S3 lists. */
let bucket: Map<string, string>;
/** The batch's run: undefined before its start. */
let run: { status: ExecutionStatus } | undefined;
let deleteCalls: number;

const declare = (images: number, uploaded = images) => {
  bucket.set(
    `batches/${ID}/batch.json`,
    JSON.stringify({
      view: 'shape',
      createdAt: '2026-11-29T00:00:00.000Z',
      images: Array.from({ length: images }, () => ({
        filename: null,
        contentType: 'image/png',
        bytes: 10,
      })),
    }),
  );
  for (let i = 0; i < uploaded; i++) bucket.set(`batches/${ID}/uploads/${i}`, 'png');
};
const keysOf = (id: string) => [...bucket.keys()].filter((k) => k.includes(id)).sort();

beforeEach(() => {
  sfnMock.reset();
  s3Mock.reset();
  bucket = new Map();
  run = undefined;
  deleteCalls = 0;
  s3Mock.on(PutObjectCommand).callsFake(async (input) => {
    if (input.IfNoneMatch === '*' && bucket.has(input.Key))
      throw Object.assign(new Error('precondition'), { name: 'PreconditionFailed' });
    bucket.set(input.Key, String(input.Body));
    return {};
  });
  s3Mock.on(GetObjectCommand).callsFake(async (input) => {
    const body = bucket.get(input.Key);
    if (body === undefined) throw Object.assign(new Error('NoSuchKey'), { name: 'NoSuchKey' });
    return { Body: { transformToString: async () => body } };
  });
  s3Mock.on(ListObjectsV2Command).callsFake(async (input) => {
    const keys = [...bucket.keys()].filter((k) => k.startsWith(input.Prefix ?? '')).sort();
    const max = input.MaxKeys ?? 1000;
    return {
      Contents: keys.slice(0, max).map((Key) => ({ Key })),
      IsTruncated: keys.length > max,
    };
  });
  s3Mock.on(DeleteObjectsCommand).callsFake(async (input) => {
    deleteCalls += 1;
    const objects = input.Delete?.Objects ?? [];
    // S3's own limit: https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html
    if (objects.length > 1000) throw Object.assign(new Error('too many'), { name: 'MalformedXML' });
    for (const { Key } of objects) bucket.delete(Key as string);
    return {};
  });
  sfnMock.on(DescribeExecutionCommand).callsFake(async () => {
    if (!run) throw Object.assign(new Error('no'), { name: 'ExecutionDoesNotExist' });
    return {
      executionArn: EXECUTION_ARN,
      status: run.status,
      startDate: new Date(),
      input: '{}',
    };
  });
  sfnMock.on(StopExecutionCommand).callsFake(async () => {
    if (run?.status === 'RUNNING') run.status = 'ABORTED';
    return { stopDate: new Date() };
  });
});

describe('DELETE /batches/{id}', () => {
  it('deletes the uploads, declaration and manifest of a batch not started, and answers 200 CANCELLED with the images deleted', async () => {
    declare(5, 3);
    bucket.set(`batches/${OTHER}/uploads/0`, 'another batch');
    const res = await call('DELETE', `/batches/${ID}`);
    expect(res.statusCode).toBe(200);
    expect(res.json).toEqual({
      batchId: ID,
      status: 'CANCELLED',
      cancelledAt: expect.any(String),
      deleted: 3,
      complete: true,
      executionArn: null,
    });
    expect(res.headers?.Location).toBe(`/prod/batches/${ID}`);
    // Only the mark is left, and no other batch was touched.
    expect(keysOf(ID)).toEqual([`batches/${ID}/cancelled.json`]);
    expect(keysOf(OTHER)).toEqual([`batches/${OTHER}/uploads/0`]);
    expect(sfnMock.commandCalls(StopExecutionCommand)).toHaveLength(0);
  });

  it('answers a second DELETE with the same final state, deleting an image uploaded in between', async () => {
    declare(2);
    const first = await call('DELETE', `/batches/${ID}`);
    expect(first.json.deleted).toBe(2);
    const again = await call('DELETE', `/batches/${ID}`);
    expect(again.statusCode).toBe(200);
    expect(again.json).toEqual({ ...first.json, deleted: 0 });
    // A form handed out before the cancellation is valid until it expires.
    bucket.set(`batches/${ID}/uploads/1`, 'late');
    const late = await call('DELETE', `/batches/${ID}`);
    expect(late.json).toMatchObject({ status: 'CANCELLED', deleted: 1, complete: true });
    expect(late.json.cancelledAt).toBe(first.json.cancelledAt);
    expect(keysOf(ID)).toEqual([`batches/${ID}/cancelled.json`]);
  });

  it('stops the run of a running batch, then deletes what is left of its uploads', async () => {
    declare(3, 1);
    bucket.set(`batches/${ID}/manifest.jsonl`, '{}\n');
    run = { status: 'RUNNING' };
    const res = await call('DELETE', `/batches/${ID}`);
    expect(res.statusCode).toBe(200);
    expect(res.json).toMatchObject({
      status: 'CANCELLED',
      deleted: 1,
      executionArn: EXECUTION_ARN,
    });
    expect(sfnMock.commandCalls(StopExecutionCommand)[0]?.args[0].input).toMatchObject({
      executionArn: EXECUTION_ARN,
      error: 'BatchCancelled',
    });
    expect(run.status).toBe('ABORTED');
    expect(keysOf(ID)).toEqual([`batches/${ID}/cancelled.json`]);
    // Its run ended ABORTED, by this DELETE: the batch reads as cancelled, and again DELETE says so.
    const described = await call('GET', `/batches/${ID}`);
    expect(described.json).toEqual({
      batchId: ID,
      status: 'CANCELLED',
      cancelledAt: res.json.cancelledAt,
      executionArn: EXECUTION_ARN,
    });
    const again = await call('DELETE', `/batches/${ID}`);
    expect(again.statusCode).toBe(200);
    expect(sfnMock.commandCalls(StopExecutionCommand)).toHaveLength(1);
  });

  it.each<ExecutionStatus>(['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'])(
    'answers 409 BATCH_FINISHED for a run that ended %s, and touches nothing',
    async (status) => {
      declare(2, 0);
      run = { status };
      const before = keysOf(ID);
      const res = await call('DELETE', `/batches/${ID}`);
      expect(res.statusCode).toBe(409);
      expect(res.json.error).toMatchObject({ code: 'BATCH_FINISHED', batchId: ID, status });
      expect(res.json.error.message).toMatch(/nothing to cancel/);
      expect(keysOf(ID)).toEqual(before);
      expect(sfnMock.commandCalls(StopExecutionCommand)).toHaveLength(0);
      expect(deleteCalls).toBe(0);
    },
  );

  it('answers 404 for a batch that does not exist, and for an id that is no batch id', async () => {
    for (const id of [ID, 'not-a-uuid']) {
      const res = await call('DELETE', `/batches/${id}`);
      expect(res.statusCode).toBe(404);
      expect(res.json.error.code).toBe('NOT_FOUND');
    }
    expect(bucket.size).toBe(0);
  });

  it('answers 202 when more is left than one request deletes, and DELETE again finishes it', async () => {
    const pages = BATCH_LIMITS.cancelPagesPerRequest;
    declare(pages * 1000 + 10);
    const first = await call('DELETE', `/batches/${ID}`);
    expect(first.statusCode).toBe(202);
    expect(first.json).toMatchObject({ status: 'CANCELLED', complete: false });
    expect(first.json.message).toContain(`DELETE /prod/batches/${ID} again`);
    expect(deleteCalls).toBe(pages);
    // The batch is cancelled already: it cannot be started while the rest is deleted.
    expect((await call('POST', `/batches/${ID}/start`)).statusCode).toBe(410);
    const second = await call('DELETE', `/batches/${ID}`);
    expect(second.statusCode).toBe(200);
    expect(first.json.deleted + second.json.deleted).toBe(pages * 1000 + 10);
    expect(keysOf(ID)).toEqual([`batches/${ID}/cancelled.json`]);
  });
});

describe('the DELETE route', () => {
  it('is the batch itself: DELETE of its other routes answers 405, naming the methods they take', async () => {
    for (const [path, allow] of [
      ['/batches', 'POST'],
      [`/batches/${ID}/start`, 'POST'],
      [`/batches/${ID}/results`, 'GET'],
    ] as const) {
      const res = await call('DELETE', path);
      expect(res.statusCode, path).toBe(405);
      expect(res.headers?.Allow, path).toBe(allow);
    }
    expect(deleteCalls).toBe(0);
  });

  it('is offered to browsers by the CORS preflight', async () => {
    const event = restEvent({
      method: 'OPTIONS',
      path: `/batches/${ID}`,
      headers: { origin: 'https://example.org', 'access-control-request-method': 'DELETE' },
      body: undefined,
      base64: false,
    });
    const res = (await handler(event as never, lambdaContext())) as APIGatewayProxyResult;
    expect(String(res.headers?.['Access-Control-Allow-Methods'])).toContain('DELETE');
  });
});

describe('a cancelled batch', () => {
  beforeEach(async () => {
    declare(3, 1);
    expect((await call('DELETE', `/batches/${ID}`)).statusCode).toBe(200);
  });

  it('answers a start with 410 BATCH_CANCELLED and starts nothing', async () => {
    const res = await call('POST', `/batches/${ID}/start`);
    expect(res.statusCode).toBe(410);
    expect(res.json.error).toMatchObject({ code: 'BATCH_CANCELLED', batchId: ID });
    expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('is given no more upload forms, and no results', async () => {
    expect((await call('GET', `/batches/${ID}/uploads`)).json.error.code).toBe('BATCH_CANCELLED');
    expect((await call('GET', `/batches/${ID}/results`)).json.error.code).toBe('BATCH_CANCELLED');
  });

  it('reads as CANCELLED', async () => {
    const res = await call('GET', `/batches/${ID}`);
    expect(res.statusCode).toBe(200);
    expect(res.json).toMatchObject({ batchId: ID, status: 'CANCELLED', executionArn: null });
  });
});

describe('a start racing a DELETE', () => {
  it('stops the run it started when the batch was cancelled meanwhile, and answers 410', async () => {
    declare(1);
    sfnMock.on(StartExecutionCommand).callsFake(async () => {
      // The DELETE's mark lands between this start's check and its StartExecution.
      bucket.set(`batches/${ID}/cancelled.json`, '{"cancelledAt":"2026-11-29T00:00:00.000Z"}');
      run = { status: 'RUNNING' };
      return { executionArn: EXECUTION_ARN, startDate: new Date() };
    });
    const res = await call('POST', `/batches/${ID}/start`);
    expect(res.statusCode).toBe(410);
    expect(run?.status).toBe('ABORTED');
  });
});
