/**
 * The large-batch routes' glue, against fake AWS clients: what a declaration is refused for,
 * what the presigned forms' policies fix, how a start race and an unfinished batch answer, and
 * how records render per view.
 */
import {
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import {
  DescribeExecutionCommand,
  ListMapRunsCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { recordsBetween, renderRecord } from '../../lambdas/ingest/batch-results.ts';
import { readDeclaration } from '../../lambdas/ingest/batch-store.ts';
import { imagesPerInvocation } from '../../lambdas/ingest/batches.ts';
import { ingestConfig } from '../../lambdas/shared/config.ts';
import type { BatchRecord } from '../../lambdas/shared/workflow.ts';
import { lambdaContext, restEvent } from '../support/events.ts';
import {
  BATCH_ID,
  LARGE_MACHINE,
  largeBatchClients,
  largeBatchConfig,
  largeBatchHandler,
} from '../support/large-batch.ts';

const MACHINE = LARGE_MACHINE;
const config = largeBatchConfig;
const ID = BATCH_ID;
const sfnMock = mockClient(SFNClient);
const s3Mock = mockClient(S3Client);
const handler = largeBatchHandler(config);

const call = async (
  method: string,
  path: string,
  body?: unknown,
  options: { contentType?: string; query?: Record<string, string>; h?: typeof handler } = {},
) => {
  const event = restEvent({
    method,
    path,
    headers: { 'content-type': options.contentType ?? 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    base64: false,
  });
  event.queryStringParameters = options.query ?? null;
  const res = (await (options.h ?? handler)(
    event as never,
    lambdaContext(),
  )) as APIGatewayProxyResult;
  // biome-ignore lint/suspicious/noExplicitAny: a JSON answer, which the assertions look into
  return { ...res, json: JSON.parse(res.body) as Record<string, any> };
};

const image = { filename: 'a.png', contentType: 'image/png', bytes: 1234 };
let puts: Record<string, string>;
beforeEach(() => {
  sfnMock.reset();
  s3Mock.reset();
  puts = {};
  s3Mock.on(PutObjectCommand).callsFake(async (input) => {
    // S3's conditional write: https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html
    if (input.IfNoneMatch === '*' && puts[input.Key] !== undefined)
      throw Object.assign(
        new Error('At least one of the pre-conditions you specified did not hold'),
        {
          name: 'PreconditionFailed',
        },
      );
    puts[input.Key] = String(input.Body);
    return {};
  });
  s3Mock.on(GetObjectCommand).callsFake(async (input) => {
    const body = puts[input.Key];
    if (body === undefined) throw Object.assign(new Error('NoSuchKey'), { name: 'NoSuchKey' });
    return { Body: { transformToString: async () => body } };
  });
  sfnMock
    .on(DescribeExecutionCommand)
    .rejects(Object.assign(new Error('no'), { name: 'ExecutionDoesNotExist' }));
});

describe('POST /batches', () => {
  it.each([
    ['a body that is not JSON', '{"view":', {}, 400, 'INVALID_JSON'],
    ['another media type', '{}', { contentType: 'text/plain' }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['an unknown view', { view: 'pixels', images: [image] }, {}, 422, 'INVALID_BATCH'],
    ['no images', { view: 'shape', images: [] }, {}, 422, 'INVALID_BATCH'],
    [
      'an image without a content type',
      { view: 'shape', images: [{ bytes: 1 }] },
      {},
      422,
      'INVALID_BATCH',
    ],
    [
      'a negative size',
      { view: 'shape', images: [{ ...image, bytes: -1 }] },
      {},
      422,
      'INVALID_BATCH',
    ],
    [
      'an image over 50 MB',
      { view: 'shape', images: [{ ...image, bytes: 52_428_801 }] },
      {},
      413,
      'IMAGE_TOO_LARGE',
    ],
  ])('refuses %s in the house error shape', async (_, body, options, status, code) => {
    const res = await call('POST', '/batches', body, options);
    expect(res.statusCode).toBe(status);
    expect(res.json.error.code).toBe(code);
    expect(typeof res.json.error.message).toBe('string');
    expect(Object.keys(puts)).toEqual([]);
  });

  it('answers 413 TOO_MANY_IMAGES past 100,000 images', async () => {
    const images = Array.from({ length: 100_001 }, () => ({ contentType: 'image/png', bytes: 1 }));
    const res = await call('POST', '/batches', { view: 'nbytes', images });
    expect(res.statusCode).toBe(413);
    expect(res.json.error).toMatchObject({ code: 'TOO_MANY_IMAGES', limit: 100_000 });
  });

  it('stores the declaration and answers forms whose policy fixes key, type and exact size for 15 minutes', async () => {
    const images = Array.from({ length: 501 }, (_, i) => ({ ...image, bytes: 1000 + i }));
    const before = Date.now();
    const res = await call('POST', '/batches', { view: 'shape', images });
    expect(res.statusCode).toBe(201);
    const { batchId, uploads, nextUploads, start, expiresAt } = res.json;
    expect(res.headers?.Location).toBe(`/prod/batches/${batchId}`);
    expect(start).toBe(`/prod/batches/${batchId}/start`);
    expect(nextUploads).toBe(`/prod/batches/${batchId}/uploads?cursor=500`);
    expect(uploads).toHaveLength(500);
    expect(JSON.parse(puts[`batches/${batchId}/batch.json`] ?? '')).toMatchObject({
      view: 'shape',
      images,
    });
    const form = uploads[7];
    const policy = JSON.parse(Buffer.from(form.fields.Policy, 'base64').toString());
    expect(policy.conditions).toEqual(
      expect.arrayContaining([
        { bucket: 'staging-bucket' },
        { key: `batches/${batchId}/uploads/7` },
        { 'Content-Type': 'image/png' },
        ['content-length-range', 1007, 1007],
      ]),
    );
    const lifetime = Date.parse(policy.expiration) - before;
    expect(lifetime).toBeGreaterThan(899_000);
    expect(lifetime).toBeLessThan(901_000);
    expect(Date.parse(expiresAt)).toBeCloseTo(Date.parse(policy.expiration), -4);

    const page = await call('GET', `/batches/${batchId}/uploads`, undefined, {
      query: { cursor: '500' },
    });
    expect(page.statusCode).toBe(200);
    expect(page.json.uploads.map((u: { index: number }) => u.index)).toEqual([500]);
    expect(page.json.nextCursor).toBeNull();
  });
});

describe('the other /batches routes', () => {
  it('answers 404 for an id that is no batch', async () => {
    for (const path of ['/batches/not-a-uuid', `/batches/${ID}`, `/batches/${ID}/uploads`]) {
      const res = await call('GET', path);
      expect(res.statusCode, path).toBe(404);
      expect(res.json.error.code).toBe('NOT_FOUND');
    }
  });

  it('answers 503 when the stack has no large-batch workflow', async () => {
    const { largeBatchStateMachineArn: _, ...without } = config;
    const res = await call('POST', `/batches/${ID}/start`, '', { h: largeBatchHandler(without) });
    expect(res.statusCode).toBe(503);
    expect(res.json.error.code).toBe('LARGE_BATCHES_UNAVAILABLE');
  });

  it('answers 503 when the stack gives no concurrency for large batches', async () => {
    const { largeBatchMaxConcurrency: _, ...without } = config;
    const res = await call('POST', `/batches/${ID}/start`, '', { h: largeBatchHandler(without) });
    expect(res.statusCode).toBe(503);
    expect(res.json.error.code).toBe('LARGE_BATCHES_UNAVAILABLE');
    expect(sfnMock.commandCalls(StartExecutionCommand)).toEqual([]);
  });

  it('starts the run with its batching: images per invocation and child batches at once', async () => {
    const images = [image, { ...image, bytes: 3 * 1234 }];
    puts[`batches/${ID}/batch.json`] = JSON.stringify({ view: 'shape', images });
    s3Mock.on(ListObjectsV2Command).resolves({
      Contents: [{ Key: `batches/${ID}/uploads/0` }, { Key: `batches/${ID}/uploads/1` }],
    });
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: 'arn:run' });
    const res = await call('POST', `/batches/${ID}/start`, '');
    expect(res.statusCode).toBe(202);
    const start = sfnMock.commandCalls(StartExecutionCommand)[0]?.args[0].input;
    expect(start?.name).toBe(ID);
    expect(JSON.parse(start?.input ?? '').batching).toEqual({
      maxItems: imagesPerInvocation(4 * 1234, 2),
      maxConcurrency: config.largeBatchMaxConcurrency,
    });
  });

  it('answers a start that lost a race with the run the other one started', async () => {
    puts[`batches/${ID}/batch.json`] = JSON.stringify({ view: 'shape', images: [image, image] });
    s3Mock.on(ListObjectsV2Command).resolves({ Contents: [{ Key: `batches/${ID}/uploads/1` }] });
    const executionArn = `${MACHINE.replace(':stateMachine:', ':execution:')}:${ID}`;
    sfnMock
      .on(StartExecutionCommand)
      .rejects(Object.assign(new Error('exists'), { name: 'ExecutionAlreadyExists' }));
    sfnMock
      .on(DescribeExecutionCommand)
      .rejectsOnce(Object.assign(new Error('no'), { name: 'ExecutionDoesNotExist' }))
      .resolves({ executionArn, status: 'RUNNING' });
    const res = await call('POST', `/batches/${ID}/start`, '');
    expect(res.statusCode).toBe(202);
    expect(res.json).toEqual({ batchId: ID, executionArn, status: 'RUNNING' });
    const manifest = (puts[`batches/${ID}/manifest.jsonl`] ?? '').trim().split('\n');
    expect(manifest.map((line) => JSON.parse(line).index)).toEqual([1]);
    expect(JSON.parse(puts[`results/${ID}/not-uploaded.json`] ?? '')).toEqual([
      expect.objectContaining({
        index: 0,
        error: expect.objectContaining({ code: 'NOT_UPLOADED' }),
      }),
    ]);
  });

  it('never rewrites the manifest another start wrote, and derives the not-uploaded records from it', async () => {
    puts[`batches/${ID}/batch.json`] = JSON.stringify({ view: 'shape', images: [image, image] });
    // The first start listed image 0 only; image 1 arrived before this start listed.
    const first = `${JSON.stringify({ index: 0, size: 1234 })}\n`;
    puts[`batches/${ID}/manifest.jsonl`] = first;
    s3Mock.on(ListObjectsV2Command).resolves({
      Contents: [{ Key: `batches/${ID}/uploads/0` }, { Key: `batches/${ID}/uploads/1` }],
    });
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: 'arn:run' });
    const res = await call('POST', `/batches/${ID}/start`, '');
    expect(res.statusCode).toBe(202);
    expect(puts[`batches/${ID}/manifest.jsonl`]).toBe(first);
    expect(JSON.parse(puts[`results/${ID}/not-uploaded.json`] ?? '')).toEqual([
      expect.objectContaining({
        index: 1,
        error: expect.objectContaining({ code: 'NOT_UPLOADED' }),
      }),
    ]);
    const input = JSON.parse(
      sfnMock.commandCalls(StartExecutionCommand)[0]?.args[0].input.input ?? '',
    );
    expect(input).toMatchObject({ images: 2, notUploaded: 1 });
  });

  it('counts only uploads/<digits> keys as uploaded images', async () => {
    puts[`batches/${ID}/batch.json`] = JSON.stringify({ view: 'shape', images: [image, image] });
    s3Mock.on(ListObjectsV2Command).resolves({
      Contents: [
        { Key: `batches/${ID}/uploads/` },
        { Key: `batches/${ID}/uploads/ ` },
        { Key: `batches/${ID}/uploads/1` },
      ],
    });
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: 'arn:run' });
    expect((await call('POST', `/batches/${ID}/start`, '')).statusCode).toBe(202);
    const manifest = (puts[`batches/${ID}/manifest.jsonl`] ?? '').trim().split('\n');
    expect(manifest.map((line) => JSON.parse(line).index)).toEqual([1]);
  });

  it('answers a clear 500 when a succeeded run has no ResultWriter output', async () => {
    sfnMock.on(DescribeExecutionCommand).resolves({
      status: 'SUCCEEDED',
      input: JSON.stringify({ view: 'shape', images: 1, notUploaded: 0 }),
      output: '{}',
    });
    const res = await call('GET', `/batches/${ID}/results`);
    expect(res.statusCode).toBe(500);
    expect(res.json.error).toMatchObject({ code: 'BATCH_RESULTS_UNAVAILABLE', batchId: ID });
  });

  it('names the object, not a bare SyntaxError, when a stored declaration is empty', async () => {
    puts[`batches/${ID}/batch.json`] = '';
    await expect(readDeclaration(largeBatchClients.s3, 'staging-bucket', ID)).rejects.toThrow(
      `s3://staging-bucket/batches/${ID}/batch.json is not JSON (0 bytes)`,
    );
  });

  it("serves a FAILED run's records: what its children wrote, the rest retryable", async () => {
    const images = [0, 1, 2, 3].map((i) => ({ ...image, filename: `${i}.png` }));
    puts[`batches/${ID}/batch.json`] = JSON.stringify({ view: 'shape', images });
    const mapRunArn = `arn:aws:states:us-east-1:000000000000:mapRun:ImageBatchLarge/Analyze:run-1`;
    sfnMock.on(DescribeExecutionCommand).resolves({
      status: 'FAILED',
      executionArn: 'arn:run',
      input: JSON.stringify({ view: 'shape', images: 4, notUploaded: 1 }),
    });
    sfnMock.on(ListMapRunsCommand).resolves({ mapRuns: [{ mapRunArn } as never] });
    const identity = (i: number) => ({
      index: i,
      name: null,
      filename: `${i}.png`,
      contentType: 'image/png',
    });
    puts[`results/${ID}/run-1/manifest.json`] = JSON.stringify({
      ResultFiles: { SUCCEEDED: [{ Key: 's.json' }], FAILED: [{ Key: 'f.json' }], PENDING: [] },
    });
    puts['s.json'] = JSON.stringify([
      { Input: '{}', Output: JSON.stringify([{ ...identity(0), bytes: 1, shape: [2, 3] }]) },
    ]);
    puts['f.json'] = JSON.stringify([
      {
        Input: JSON.stringify({ Items: [{ ...identity(1), size: 1234 }] }),
        Error: 'States.Timeout',
      },
    ]);
    puts[`results/${ID}/not-uploaded.json`] = JSON.stringify([
      { ...identity(3), bytes: 1, error: { code: 'NOT_UPLOADED', message: 'm', retryable: false } },
    ]);
    const res = await call('GET', `/batches/${ID}/results`);
    expect(res.statusCode).toBe(200);
    expect(res.json.nextCursor).toBeNull();
    expect(res.json.items).toEqual([
      [2, 3],
      { error: expect.objectContaining({ code: 'ANALYSIS_FAILED', retryable: true }) },
      {
        error: {
          code: 'ANALYSIS_FAILED',
          message: "The batch's run failed before this image was analyzed.",
          retryable: true,
        },
      },
      { error: expect.objectContaining({ code: 'NOT_UPLOADED' }) },
    ]);
    expect(Object.keys(puts)).toContain(`results/${ID}/failed/pages/0.json`);
  });

  it('answers 409 for a FAILED run that wrote no results', async () => {
    sfnMock.on(DescribeExecutionCommand).resolves({ status: 'FAILED', input: '{}' });
    sfnMock.on(ListMapRunsCommand).resolves({ mapRuns: [] });
    const res = await call('GET', `/batches/${ID}/results`);
    expect(res.statusCode).toBe(409);
    expect(res.json.error).toMatchObject({ code: 'BATCH_NOT_FINISHED', status: 'FAILED' });
  });

  it('answers 409 with Retry-After for the results of a running batch', async () => {
    sfnMock.on(DescribeExecutionCommand).resolves({ status: 'RUNNING', input: '{}' });
    const res = await call('GET', `/batches/${ID}/results`);
    expect(res.statusCode).toBe(409);
    expect(res.json.error).toMatchObject({ code: 'BATCH_NOT_FINISHED', status: 'RUNNING' });
    expect(res.headers?.['Retry-After']).toBe('5');
  });

  it.each([['0'], ['1001'], ['ten']])('answers 400 for limit=%s', async (limit) => {
    sfnMock.on(DescribeExecutionCommand).resolves({ status: 'SUCCEEDED', input: '{}' });
    const res = await call('GET', `/batches/${ID}/results`, undefined, { query: { limit } });
    expect(res.statusCode).toBe(400);
    expect(res.json.error).toMatchObject({ code: 'INVALID_QUERY', parameter: 'limit' });
  });
});

describe('the ingest configuration of large batches', () => {
  const stack = {
    SYNC_STATE_MACHINE_ARN: `${MACHINE}-sync`,
    ASYNC_STATE_MACHINE_ARN: `${MACHINE}-async`,
    STAGING_BUCKET: 'staging-bucket',
    LARGE_BATCH_STATE_MACHINE_ARN: MACHINE,
  };
  const withEnv = (variables: Record<string, string | undefined>) => {
    for (const [key, value] of Object.entries({ ...stack, ...variables })) vi.stubEnv(key, value);
  };
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('fails at cold start, naming LARGE_BATCH_MAX_CONCURRENCY, when the machine comes without it', () => {
    withEnv({ LARGE_BATCH_MAX_CONCURRENCY: undefined });
    expect(() => ingestConfig()).toThrow(
      'Environment variable LARGE_BATCH_MAX_CONCURRENCY is required',
    );
  });

  it.each(['0', '-3', '2.5', 'ten', ''])(
    'refuses LARGE_BATCH_MAX_CONCURRENCY=%j, which is no whole number of at least 1',
    (value) => {
      withEnv({ LARGE_BATCH_MAX_CONCURRENCY: value });
      expect(() => ingestConfig()).toThrow(
        'Environment variable LARGE_BATCH_MAX_CONCURRENCY must be a whole number of at least 1',
      );
    },
  );

  // Last: a configuration read without error is kept for the life of the module.
  it('reads the number the stack sets', () => {
    withEnv({ LARGE_BATCH_MAX_CONCURRENCY: '30' });
    expect(ingestConfig()).toMatchObject({
      largeBatchStateMachineArn: MACHINE,
      largeBatchMaxConcurrency: 30,
    });
  });
});

describe('a batch record as each view renders it', () => {
  const identity = { index: 0, name: null, filename: 'a', contentType: 'image/png' };
  const corrupt = {
    ...identity,
    bytes: 3,
    error: { code: 'CORRUPT_IMAGE', message: 'm' },
  } as BatchRecord;
  const notUploaded = { code: 'NOT_UPLOADED', message: 'm', retryable: false };
  const missing = { ...identity, bytes: 3, error: notUploaded } as BatchRecord;
  const platform = { code: 'ANALYSIS_FAILED', message: 'm', retryable: true };
  const failed = { ...identity, bytes: 3, error: platform } as BatchRecord;

  it('gives [] for an unreadable image and the error for one never analyzed or whose analysis crashed', () => {
    expect(renderRecord('shape', corrupt)).toEqual([]);
    expect(renderRecord('nbytes', missing)).toEqual({ error: notUploaded });
    expect(renderRecord('shape', failed)).toEqual({ error: platform });
    // Our own crash is not "not an image" either.
    const defect = { code: 'ANALYSIS_FAILED', message: 'm', retryable: false };
    expect(renderRecord('shape', { ...identity, bytes: 3, error: defect } as BatchRecord)).toEqual({
      error: defect,
    });
    expect(renderRecord('analyze', missing)).toBe(missing);
  });

  it("renders the records a child cut to its view, and the failures a child's Catch made whole", () => {
    expect(renderRecord('shape', { index: 0, shape: [3, 2, 4] })).toEqual([3, 2, 4]);
    expect(renderRecord('nbytes', { index: 0, nbytes: 0.5 })).toBe(0.5);
    const cut = { index: 0, error: { code: 'CORRUPT_IMAGE' as const, message: 'm' } };
    expect(renderRecord('shape', cut)).toEqual([]);
    expect(renderRecord('nbytes', { index: 0, error: platform } as BatchRecord)).toEqual({
      error: platform,
    });
    expect(renderRecord('shape', failed)).toEqual({ error: platform });
  });
});

describe('the images one analysis invocation takes', () => {
  it('is 100 for small images, fewer as their mean size grows, and never 0', () => {
    expect(imagesPerInvocation(100 * 50_000, 100)).toBe(100);
    expect(imagesPerInvocation(10 * 4_000_000, 10)).toBe(67);
    expect(imagesPerInvocation(3 * 50 * 1024 * 1024, 3)).toBe(5);
    expect(imagesPerInvocation(0, 0)).toBe(100);
    expect(imagesPerInvocation(2 * 2 ** 40, 2)).toBe(1);
  });
});

describe('the results pages', () => {
  const where = {
    batchId: ID,
    images: 2500,
    bucket: 'staging-bucket',
    prefix: `results/${ID}`,
    manifestKey: `results/${ID}/run/manifest.json`,
    notUploadedKey: `results/${ID}/not-uploaded.json`,
  };
  const record = (index: number) => ({
    index,
    name: null,
    filename: `${index}.png`,
    contentType: 'image/png',
    bytes: 1,
    error: { code: 'EMPTY_IMAGE', message: 'm' },
  });
  const item = (index: number) => ({
    ...record(index),
    size: 1,
    object: {},
    offset: 0,
    deadline: null,
  });

  it('are written once, in upload order, from the result files, and read from then on', async () => {
    // 2,499 records from 25 children finishing out of order, one child failed, one image missing.
    const children = [...Array(24).keys()].reverse().map((c) => ({
      Input: '{}',
      Output: JSON.stringify([...Array(100).keys()].map((i) => record(c * 100 + i))),
    }));
    puts[where.manifestKey] = JSON.stringify({
      ResultFiles: {
        SUCCEEDED: [{ Key: 'ok.json' }],
        FAILED: [{ Key: 'failed.json' }],
        PENDING: [],
      },
    });
    puts['ok.json'] = JSON.stringify(children);
    const failedItems = [...Array(99).keys()].map((i) => item(2400 + i));
    puts['failed.json'] = JSON.stringify([
      { Input: JSON.stringify({ Items: failedItems }), Error: 'States.Timeout' },
    ]);
    puts[where.notUploadedKey] = JSON.stringify([
      { ...record(2499), error: { code: 'NOT_UPLOADED', message: 'm', retryable: false } },
    ]);

    const middle = await recordsBetween(largeBatchClients.s3, where, 998, 1002);
    expect(middle.map((r) => r.index)).toEqual([998, 999, 1000, 1001]);
    expect(
      Object.keys(puts)
        .filter((k) => k.includes('/pages/'))
        .sort(),
    ).toEqual([
      `results/${ID}/pages/0.json`,
      `results/${ID}/pages/1.json`,
      `results/${ID}/pages/2.json`,
    ]);
    const tail = await recordsBetween(
      largeBatchClients.s3,
      { ...where, manifestKey: 'gone' },
      2398,
      2500,
    );
    expect(tail.map((r) => r.index)).toEqual([...Array(102).keys()].map((i) => 2398 + i));
    expect(tail[2]).toMatchObject({
      index: 2400,
      error: { code: 'ANALYSIS_FAILED', retryable: true },
    });
    expect(tail.at(-1)).toMatchObject({ index: 2499, error: { code: 'NOT_UPLOADED' } });
  });

  it('refuse to answer when a record is missing or doubled rather than shift every index', async () => {
    puts[where.manifestKey] = JSON.stringify({ ResultFiles: { SUCCEEDED: [{ Key: 'ok.json' }] } });
    // Image 1 twice, image 2 never: the count is right, the positions are not.
    const output = [0, 1, 1].map(record);
    puts['ok.json'] = JSON.stringify([{ Input: '{}', Output: JSON.stringify(output) }]);
    const three = { ...where, images: 3, notUploadedKey: 'none' };
    await expect(recordsBetween(largeBatchClients.s3, three, 0, 3)).rejects.toMatchObject({
      statusCode: 500,
      code: 'BATCH_RESULTS_UNAVAILABLE',
    });
    await expect(
      recordsBetween(largeBatchClients.s3, { ...three, images: 4 }, 0, 3),
    ).rejects.toThrow(/3 records for 4 declared images/);
    // A page written by an older version with a record out of place.
    puts[`results/${ID}/pages/0.json`] = JSON.stringify(output);
    await expect(recordsBetween(largeBatchClients.s3, three, 1, 3)).rejects.toThrow(/position 2/);
  });
});
