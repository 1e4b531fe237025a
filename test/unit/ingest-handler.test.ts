/**
 * The ingest Lambda as API Gateway invokes it, with Step Functions faked: the fake runs the
 * real analysis on each item and answers as the workflow's last state does, so these tests
 * pin the glue (parsing, routing, errors, what is sent to Step Functions), not the workflow.
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import {
  DescribeExecutionCommand,
  SFNClient,
  StartExecutionCommand,
  StartSyncExecutionCommand,
  type StartSyncExecutionCommandInput,
} from '@aws-sdk/client-sfn';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { analyzeItems } from '../../lambdas/analyze/analyze-item.ts';
import { createHandler } from '../../lambdas/ingest/handler.ts';
import type { IngestConfig } from '../../lambdas/shared/config.ts';
import { createLogger } from '../../lambdas/shared/logger.ts';
import {
  type ExecutionInput,
  itemsOf,
  type ResultRecord,
  recordFor,
} from '../../lambdas/shared/workflow.ts';
import { bilevelPng } from '../support/bomb.ts';
import {
  encodeForm,
  type FormFile,
  httpApiEvent,
  lambdaContext,
  restEvent,
} from '../support/events.ts';
import { fixtureImage } from '../support/fixtures.ts';
import { useCapturedOutput } from '../support/output.ts';

const SYNC_ARN = 'arn:aws:states:us-east-1:000000000000:stateMachine:ImageBatchSync';
const REQUEST_LIMIT = 1_000_000;
const config: IngestConfig = {
  syncStateMachineArn: SYNC_ARN,
  asyncStateMachineArn: `${SYNC_ARN}-async`,
  maxRequestBytes: REQUEST_LIMIT,
  maxImagesSync: 5,
  maxImagesAsync: 8,
  maxPixelsSync: 400_000_000,
  maxPixelsAsync: 800_000_000,
  syncDeadlineMs: 28_000,
  stagingBucket: 'staging-bucket',
};

vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'INFO');
const sfn = mockClient(SFNClient);
const s3Mock = mockClient(S3Client);
const s3 = new S3Client({ region: 'us-east-1' });
const handler = createHandler({
  config,
  sfn: new SFNClient({ region: 'us-east-1' }),
  s3,
  logger: createLogger('image-ingest'),
});
/** The bucket, as far as these tests need one: what was put can be read (by byte range) and
 * deleted; reads of the range starting at `failingOffset` fail, as a store under strain does. */
const bucket = new Map<string, Buffer>();
let failingOffset: number | undefined;
const fakeBucket = () => {
  bucket.clear();
  failingOffset = undefined;
  s3Mock.reset();
  s3Mock.on(PutObjectCommand).callsFake(async (input) => {
    bucket.set(input.Key, Buffer.from(input.Body));
    return {};
  });
  s3Mock.on(GetObjectCommand).callsFake(async (input) => {
    const object = bucket.get(input.Key);
    if (!object) throw Object.assign(new Error('NoSuchKey'), { name: 'NoSuchKey' });
    const [, start, end] = /^bytes=(\d+)-(\d+)$/.exec(input.Range ?? '') ?? [];
    if (Number(start) === failingOffset)
      throw Object.assign(new Error('SlowDown'), { name: 'SlowDown' });
    const bytes = start === undefined ? object : object.subarray(Number(start), Number(end) + 1);
    return { Body: { transformToByteArray: async () => new Uint8Array(bytes) } };
  });
  s3Mock.on(DeleteObjectCommand).callsFake(async (input) => {
    bucket.delete(input.Key);
    return {};
  });
};
// Powertools writes INFO to stdout and ERROR to stderr: both are captured, neither printed.
const logs = useCapturedOutput();
const cat = fixtureImage('photo_400x600.jpg');
const gray = fixtureImage('gray_300x200.jpg');
const palette = fixtureImage('palette_150x100.png');
const truncated = fixtureImage('truncated_jpeg.jpg');

/** Does what the workflow does with the chunks, and answers like its Map's ResultSelector:
 * each chunk analyzed with the request's view, staged object and deadline (the Map's
 * ItemSelector), a chunk whose analysis throws becomes the records "Record platform failures"
 * makes, and the staged object is deleted as "Discard staged images" does. */
const workflow = async (input: StartSyncExecutionCommandInput) => {
  const { request, chunks, staged, deadline } = JSON.parse(input.input ?? '') as ExecutionInput;
  const perChunk = await Promise.all(
    chunks.map(({ Items }) =>
      analyzeItems(itemsOf({ Items, BatchInput: { object: staged, deadline } }), { s3 })
        .then((records) => records.map((record) => recordFor(request.view, record)))
        .catch((error: Error) =>
          Items.map(
            (item): ResultRecord => ({
              index: item.index,
              name: item.name,
              filename: item.filename,
              contentType: item.contentType,
              bytes: item.size,
              error: { code: 'ANALYSIS_FAILED', message: error.name, retryable: true },
            }),
          ),
        ),
    ),
  );
  const results = perChunk.flat();
  bucket.delete(staged.key);
  return {
    executionArn: `arn:aws:states:us-east-1:000000000000:express:ImageBatchSync:${input.name}:x`,
    status: 'SUCCEEDED' as const,
    output: JSON.stringify({ request, results }),
    startDate: new Date(),
    stopDate: new Date(),
  };
};

const call = async (event: unknown, remainingMs?: number) => {
  const result = (await handler(event as never, lambdaContext(remainingMs))) as
    | APIGatewayProxyResult
    | undefined;
  if (!result) throw new Error('no response');
  return { ...result, json: JSON.parse(result.body) as unknown };
};

const postForm = async (path: string, files: FormFile[], fields?: Record<string, string>) => {
  const { body, contentType } = await encodeForm(files, fields);
  return call(restEvent({ path, headers: { 'Content-Type': contentType }, body }));
};

const startInputs = () =>
  sfn
    .commandCalls(StartSyncExecutionCommand)
    .map((c) => c.args[0].input as StartSyncExecutionCommandInput);

beforeEach(() => {
  sfn.reset();
  sfn.on(StartSyncExecutionCommand).callsFake(workflow);
  fakeBucket();
  logs.length = 0;
});

describe('ingest: answers as the original service', () => {
  it('answers /shape for a form with one list entry per image part, in upload order', async () => {
    const res = await postForm(
      '/shape',
      [
        { content: cat, filename: 'cat.jpg', type: 'image/jpeg' },
        { content: gray, filename: 'gray.jpg' },
        { content: palette, filename: 'palette.png' },
      ],
      { note: 'ignored', other: 'also ignored' },
    );
    expect(res.statusCode).toBe(200);
    expect(res.json).toEqual([
      [600, 400, 3],
      [200, 300],
      [100, 150],
    ]);
  });

  it('answers /nbytes for a form with one kB figure per image', async () => {
    const res = await postForm('/nbytes', [{ content: cat }, { content: gray }]);
    expect(res.json).toEqual([720, 60]);
  });

  it('answers a raw image body with the bare value', async () => {
    const res = await call(
      restEvent({ path: '/shape', headers: { 'content-type': 'image/jpg' }, body: cat }),
    );
    expect(res.json).toEqual([600, 400, 3]);
    const bytes = await call(
      restEvent({
        path: '/nbytes',
        headers: { 'Content-Type': 'application/octet-stream' },
        body: cat,
      }),
    );
    expect(bytes.json).toBe(720);
  });

  it('answers [] for an unreadable image and still answers the others', async () => {
    const res = await postForm('/shape', [{ content: truncated }, { content: cat }]);
    expect(res.statusCode).toBe(200);
    expect(res.json).toEqual([[], [600, 400, 3]]);
  });

  it('answers /analyze with a full record per image, errors included', async () => {
    const res = await postForm('/analyze', [
      { content: cat, filename: 'cat.jpg', type: 'image/jpeg' },
      { content: truncated, filename: 'broken.jpg', type: 'image/jpeg' },
    ]);
    expect(res.json).toEqual([
      expect.objectContaining({
        index: 0,
        filename: 'cat.jpg',
        contentType: 'image/jpeg',
        format: 'jpeg',
        shape: [600, 400, 3],
        nbytes: 720,
        bytes: cat.length,
      }),
      expect.objectContaining({
        index: 1,
        filename: 'broken.jpg',
        error: expect.objectContaining({ code: 'CORRUPT_IMAGE' }),
      }),
    ]);
  });

  it('accepts HTTP API (v2) events on a named stage', async () => {
    const { body, contentType } = await encodeForm([{ content: cat }]);
    const res = await call(
      httpApiEvent({ path: '/shape', headers: { 'content-type': contentType }, body }),
    );
    expect(res.json).toEqual([[600, 400, 3]]);
  });
});

describe('ingest: what it sends to Step Functions', () => {
  it('starts the EXPRESS machine once, with every image staged and only its reference', async () => {
    const res = await postForm('/shape', [
      { content: cat, filename: 'cat.jpg', type: 'image/jpeg' },
      { content: gray, filename: 'gray.jpg', type: 'image/jpeg' },
    ]);
    const [start, ...more] = startInputs();
    expect(more).toHaveLength(0);
    expect(start?.stateMachineArn).toBe(SYNC_ARN);
    expect(start?.name).toMatch(/^[0-9a-f-]{36}$/);
    const input = JSON.parse(start?.input ?? '') as ExecutionInput;
    expect(input.request).toEqual({ view: 'shape', multipart: true });
    // The staged object and the deadline, named once for all images.
    expect(input.staged).toEqual({
      bucket: 'staging-bucket',
      key: `staging/${start?.name}/images`,
    });
    expect(input.deadline).toEqual(expect.any(Number));
    // Two small images: one chunk, one invocation.
    expect(input.chunks).toHaveLength(1);
    expect(input.chunks.flatMap((c) => c.Items)).toEqual([
      {
        index: 0,
        name: 'image',
        filename: 'cat.jpg',
        contentType: 'image/jpeg',
        size: cat.length,
        offset: 0,
      },
      expect.objectContaining({ index: 1, size: gray.length, offset: cat.length }),
    ]);
    expect(start?.input).not.toContain(gray.toString('base64').slice(100, 124));
    expect(res.headers?.['X-Execution-Arn']).toContain(`:express:ImageBatchSync:${start?.name}:`);
  });

  it('puts the images once, as one encrypted object, before starting, and nothing outlives the run', async () => {
    await postForm('/shape', [{ content: cat }, { content: gray }, { content: palette }]);
    const puts = s3Mock.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
    expect(puts).toHaveLength(1);
    expect(puts[0]).toMatchObject({
      Bucket: 'staging-bucket',
      Key: `staging/${startInputs()[0]?.name}/images`,
      ServerSideEncryption: 'AES256',
    });
    expect((puts[0]?.Body as Buffer | undefined)?.length).toBe(
      cat.length + gray.length + palette.length,
    );
    expect(bucket.size).toBe(0);
  });

  it("gives items the deadline of API Gateway's 29 s, counted from the request's arrival", async () => {
    const { body, contentType } = await encodeForm([{ content: cat }]);
    const event = restEvent({ path: '/shape', headers: { 'Content-Type': contentType }, body });
    const arrived = Date.now() - 5_000;
    event.requestContext.requestTimeEpoch = arrived;
    await call(event);
    const input = JSON.parse(startInputs()[0]?.input ?? '') as ExecutionInput;
    expect(input.deadline).toBe(arrived + config.syncDeadlineMs);
  });

  it('logs the request id and execution ARN, never the image bytes', async () => {
    await postForm('/shape', [{ content: cat }]);
    const lines = logs.map((l) => JSON.parse(l) as Record<string, unknown>);
    const finished = lines.find((l) => l.message === 'batch finished');
    expect(finished).toMatchObject({
      apiRequestId: 'rest-request-id',
      executionArn: expect.stringContaining(':express:'),
      images: 1,
    });
    const sample = cat.toString('base64').slice(1000, 1100);
    expect(logs.join('')).not.toContain(sample);
  });
});

describe('ingest: refusals are JSON with a code', () => {
  const errorOf = (res: { json: unknown }) => (res.json as { error: { code: string } }).error;

  it('returns 415 for a content type it does not take', async () => {
    const res = await call(
      restEvent({ path: '/shape', headers: { 'content-type': 'text/plain' }, body: 'hi' }),
    );
    expect(res.statusCode).toBe(415);
    expect(errorOf(res).code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('returns 415 when there is no content type', async () => {
    const res = await call(restEvent({ path: '/shape', body: cat }));
    expect(res.statusCode).toBe(415);
  });

  it('returns 400 for an empty raw body', async () => {
    const res = await call(restEvent({ path: '/shape', headers: { 'content-type': 'image/png' } }));
    expect(res.statusCode).toBe(400);
    expect(errorOf(res).code).toBe('EMPTY_BODY');
  });

  it('returns 422 for a form without an image part', async () => {
    const res = await postForm('/shape', [{ field: 'picture', content: cat }], { note: 'x' });
    expect(res.statusCode).toBe(422);
    expect(errorOf(res).code).toBe('NO_IMAGE');
  });

  it('returns 422 for a multipart body that does not parse', async () => {
    const res = await call(
      restEvent({
        path: '/shape',
        headers: { 'content-type': 'multipart/form-data; boundary=abc' },
        body: Buffer.from('--abc\r\nContent-Disposition: form-data; name="image"\r\n\r\nno end'),
      }),
    );
    expect(res.statusCode).toBe(422);
    expect(errorOf(res).code).toBe('MALFORMED_MULTIPART');
  });

  it('answers a multipart body cut off anywhere with JSON, never a crash', async () => {
    const { body, contentType } = await encodeForm([{ content: gray }, { content: palette }], {
      note: 'x',
    });
    const cuts = [0, 1, 10, 40, 80, 120, 200, 300, 500];
    for (let at = 700; at < body.length; at += 701) cuts.push(at);
    // The body ends "--boundary--\r\n": cutting into the close delimiter leaves it incomplete.
    cuts.push(body.length - 8, body.length - 4, body.length - 3);
    for (const at of cuts) {
      const res = await call(
        restEvent({
          path: '/shape',
          headers: { 'content-type': contentType },
          body: body.subarray(0, at),
        }),
      );
      expect([400, 422], `cut at ${at} of ${body.length}`).toContain(res.statusCode);
      expect(res.json).toEqual({ error: expect.objectContaining({ code: expect.any(String) }) });
    }
    expect(startInputs()).toHaveLength(0);
  });

  it('returns 422 for an image part whose filename is longer than 255 characters', async () => {
    const res = await postForm('/shape', [{ content: gray, filename: `${'n'.repeat(300)}.jpg` }]);
    expect(res.statusCode).toBe(422);
    expect(errorOf(res).code).toBe('FIELD_TOO_LONG');
    expect(startInputs()).toHaveLength(0);
  });

  it('returns 413 when the body exceeds the request limit', async () => {
    const res = await call(
      restEvent({
        path: '/shape',
        headers: { 'content-type': 'image/jpeg' },
        body: Buffer.alloc(REQUEST_LIMIT + 1),
      }),
    );
    expect(res.statusCode).toBe(413);
    expect(res.json).toEqual({
      error: expect.objectContaining({ code: 'PAYLOAD_TOO_LARGE', limit: REQUEST_LIMIT }),
    });
    expect(startInputs()).toHaveLength(0);
  });

  it('returns 413 for more images than a synchronous request takes', async () => {
    const res = await postForm(
      '/shape',
      Array.from({ length: 6 }, () => ({ content: gray })),
    );
    expect(res.statusCode).toBe(413);
    expect(errorOf(res).code).toBe('TOO_MANY_IMAGES');
  });

  it('returns 404 for an unknown route and 405 with Allow for a wrong method', async () => {
    const missing = await call(restEvent({ method: 'POST', path: '/resize' }));
    expect(missing.statusCode).toBe(404);
    const wrong = await call(restEvent({ method: 'GET', path: '/shape' }));
    expect(wrong.statusCode).toBe(405);
    expect(wrong.headers?.Allow).toBe('POST');
    expect(errorOf(wrong).code).toBe('METHOD_NOT_ALLOWED');
  });

  it('puts CORS headers on errors too, and answers preflight requests', async () => {
    const missing = await call(restEvent({ method: 'POST', path: '/resize' }));
    expect(missing.headers?.['Access-Control-Allow-Origin']).toBe('*');
    const preflight = (await handler(
      restEvent({
        method: 'OPTIONS',
        path: '/shape',
        headers: { Origin: 'https://example.com', 'Access-Control-Request-Method': 'POST' },
      }) as never,
      lambdaContext(),
    )) as APIGatewayProxyResult;
    expect(preflight.statusCode).toBe(204);
    expect(preflight.headers?.['Access-Control-Allow-Methods']).toContain('POST');
  });
});

describe('ingest: workflow outcomes', () => {
  it('returns 502 with the execution ARN when the workflow fails, without its cause', async () => {
    sfn.on(StartSyncExecutionCommand).resolves({
      executionArn: 'arn:x:express:m:e:1',
      status: 'FAILED',
      error: 'States.DataLimitExceeded',
      cause: 'internal detail at /var/task/index.js:1',
      startDate: new Date(),
      stopDate: new Date(),
    });
    const res = await postForm('/shape', [{ content: cat }]);
    expect(res.statusCode).toBe(502);
    expect(res.json).toEqual({
      error: {
        code: 'WORKFLOW_FAILED',
        message: 'The analysis workflow failed.',
        executionArn: 'arn:x:express:m:e:1',
        workflowError: 'States.DataLimitExceeded',
      },
    });
  });

  it('returns 504 when the workflow times out', async () => {
    sfn.on(StartSyncExecutionCommand).resolves({
      executionArn: 'arn:x',
      status: 'TIMED_OUT',
      startDate: new Date(),
      stopDate: new Date(),
    });
    const res = await postForm('/shape', [{ content: cat }]);
    expect(res.statusCode).toBe(504);
    expect((res.json as { error: { code: string } }).error.code).toBe('WORKFLOW_TIMED_OUT');
  });

  it('gives up with 504 a second before the Lambda would run out of time', async () => {
    // On a fake clock: the ingest gives up at 1.5 s of a 2.5 s remainder — a second to answer —,
    // not at middy's last-moment timeout, whatever the machine's load.
    vi.useFakeTimers();
    try {
      sfn.on(StartSyncExecutionCommand).callsFake(() => new Promise(() => undefined));
      let settled = false;
      const pending = call(
        restEvent({ path: '/shape', headers: { 'content-type': 'image/jpeg' }, body: cat }),
        2_500,
      ).finally(() => {
        settled = true;
      });
      await vi.advanceTimersByTimeAsync(1_400);
      expect(settled).toBe(false);
      await vi.advanceTimersByTimeAsync(200);
      expect(settled).toBe(true);
      const res = await pending;
      expect(res.statusCode).toBe(504);
      expect(res.json).toEqual({
        error: expect.objectContaining({ code: 'WORKFLOW_TIMED_OUT', hint: expect.any(String) }),
      });
    } finally {
      vi.useRealTimers();
    }
  });

  it('returns a generic 500 when Step Functions cannot be reached, without a stack trace', async () => {
    sfn.on(StartSyncExecutionCommand).rejects(new Error('connect ECONNREFUSED 10.0.0.1:443'));
    const res = await postForm('/shape', [{ content: cat }]);
    expect(res.statusCode).toBe(500);
    expect(res.json).toEqual({ error: { code: 'INTERNAL_ERROR', message: 'Internal error.' } });
    expect(res.body).not.toContain('ECONNREFUSED');
  });
});

describe('ingest: staging and platform failures', () => {
  it('answers 503 and starts nothing when staging fails, leaving nothing behind', async () => {
    s3Mock.on(PutObjectCommand).rejectsOnce(new Error('SlowDown'));
    const res = await postForm('/shape', [{ content: cat }, { content: gray }]);
    expect(res.statusCode).toBe(503);
    expect(res.headers?.['Retry-After']).toBe('5');
    expect(startInputs()).toHaveLength(0);
    expect(bucket.size).toBe(0);
  });

  it('deletes the staged images when the workflow fails', async () => {
    sfn.on(StartSyncExecutionCommand).resolves({ status: 'FAILED', error: 'States.Runtime' });
    const res = await postForm('/shape', [{ content: cat }, { content: gray }]);
    expect(res.statusCode).toBe(502);
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(1);
    expect(bucket.size).toBe(0);
  });

  /** A cat and a 178 MP bilevel PNG (within this config's pixel budget): more pixels than a
   * chunk holds, so two chunks, one image each; the store fails every read of the second. */
  const lost = bilevelPng(13_370, 13_370);
  const loseSecondChunk = () => {
    failingOffset = cat.length;
  };

  it('answers /shape with a JSON 503 and Retry-After, never [], when the platform lost an image', async () => {
    loseSecondChunk();
    const res = await postForm('/shape', [{ content: cat }, { content: lost }]);
    expect(res.statusCode).toBe(503);
    expect(res.headers?.['Retry-After']).toBeDefined();
    expect(res.json).toEqual({
      error: {
        code: 'ANALYSIS_FAILED',
        message: expect.any(String),
        retryable: true,
        indexes: [1],
      },
    });
  });

  it("keeps the answer of /analyze, with the lost chunk's record marked retryable", async () => {
    loseSecondChunk();
    const res = await postForm('/analyze', [{ content: cat }, { content: lost }]);
    expect(res.statusCode).toBe(200);
    expect(res.json).toEqual([
      expect.objectContaining({ index: 0, shape: [600, 400, 3] }),
      expect.objectContaining({
        index: 1,
        error: { code: 'ANALYSIS_FAILED', message: expect.any(String), retryable: true },
      }),
    ]);
  });
});

describe('ingest: bounded work per request', () => {
  const bomb = bilevelPng(13_370, 13_370);

  it('answers 413 naming the pixel budget, before staging anything, and suggests async', async () => {
    const res = await postForm('/shape', [{ content: bomb }, { content: bomb }, { content: bomb }]);
    expect(res.statusCode).toBe(413);
    expect(res.json).toEqual({
      error: {
        code: 'PIXEL_BUDGET_EXCEEDED',
        message: expect.stringContaining('400000000'),
        limit: 400_000_000,
        pixels: 3 * 13_370 * 13_370,
        hint: expect.stringContaining('Prefer: respond-async'),
      },
    });
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
    expect(startInputs()).toHaveLength(0);
  });

  it('takes the same batch asynchronously, within the larger budget', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn:x', startDate: new Date() });
    const { body, contentType } = await encodeForm([
      { content: bomb },
      { content: bomb },
      { content: bomb },
    ]);
    const res = await call(
      restEvent({
        path: '/shape',
        headers: { 'content-type': contentType, Prefer: 'respond-async' },
        body,
      }),
    );
    expect(res.statusCode).toBe(202);
    const input = JSON.parse(
      sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input.input ?? '',
    ) as ExecutionInput;
    // Someone will poll: no deadline.
    expect(input.deadline).toBeNull();
    expect(input.chunks.flatMap((c) => c.Items)).toHaveLength(3);
  });
});

describe('ingest: asynchronous runs', () => {
  const ASYNC_ARN = `${SYNC_ARN}-async`;
  const executionArn = (id: string) =>
    `${ASYNC_ARN.replace(':stateMachine:', ':execution:')}:${id}`;
  /** Execution `id` answers DescribeExecution as finished: `workflow` run on one image of
   * `size` bytes staged at `staging/<name>/images` (there or not: see `bucket`). */
  const describesFinishedRun = async (
    id: string,
    name: string,
    view: ExecutionInput['request']['view'],
    size: number,
  ) => {
    const key = `staging/${name}/images`;
    const run = await workflow({
      stateMachineArn: SYNC_ARN,
      input: JSON.stringify({
        request: { view, multipart: true },
        staged: { bucket: 'staging-bucket', key },
        deadline: null,
        chunks: [
          {
            Items: [
              {
                index: 0,
                name: 'image',
                filename: null,
                contentType: null,
                size,
                offset: 0,
              },
            ],
          },
        ],
      } satisfies ExecutionInput),
      name,
    });
    sfn.on(DescribeExecutionCommand).resolves({ ...run, executionArn: executionArn(id) });
  };

  const acceptStarts = () =>
    sfn.on(StartExecutionCommand).callsFake(async (input) => ({
      executionArn: executionArn(input.name),
      startDate: new Date(),
    }));
  const postAsync = async (count: number) => {
    const { body, contentType } = await encodeForm(
      Array.from({ length: count }, () => ({ content: gray })),
    );
    return call(
      restEvent({
        path: '/shape',
        headers: { 'content-type': contentType, Prefer: 'respond-async' },
        body,
      }),
    );
  };

  it('starts the STANDARD machine on Prefer: respond-async and answers 202 with a Location', async () => {
    acceptStarts();
    const res = await postAsync(7);
    expect(res.statusCode).toBe(202);
    const start = sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input;
    expect(start?.stateMachineArn).toBe(ASYNC_ARN);
    // The client called /prod/shape: the link must work from there.
    expect(res.headers?.Location).toBe(`/prod/executions/${start?.name}`);
    expect(res.headers?.['Preference-Applied']).toBe('respond-async');
    expect(res.json).toEqual({
      executionId: start?.name,
      executionArn: executionArn(start?.name ?? ''),
      status: 'RUNNING',
      startDate: expect.any(String),
      location: `/prod/executions/${start?.name}`,
    });
    expect(startInputs()).toHaveLength(0);
  });

  it('answers 202 with the run an unanswered StartExecution did start, found by its name', async () => {
    sfn
      .on(StartExecutionCommand)
      .rejects(Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }));
    sfn
      .on(DescribeExecutionCommand)
      .callsFake(async ({ executionArn: arn }) => ({ executionArn: arn, startDate: new Date() }));
    const res = await postAsync(2);
    expect(res.statusCode).toBe(202);
    const name = sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input.name ?? '';
    expect(sfn.commandCalls(DescribeExecutionCommand)[0]?.args[0].input.executionArn).toBe(
      executionArn(name),
    );
    expect(res.json).toMatchObject({ executionId: name, status: 'RUNNING' });
    // The run reads its images and deletes them itself.
    expect(bucket.size).toBe(1);
  });

  it('discards the staged images when the start definitely failed, and keeps them while in doubt', async () => {
    const timeout = Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
    // No answer, and no run by that name: nothing will read them.
    sfn.on(StartExecutionCommand).rejects(timeout);
    sfn
      .on(DescribeExecutionCommand)
      .rejects(
        Object.assign(new Error('Execution Does Not Exist'), { name: 'ExecutionDoesNotExist' }),
      );
    expect((await postAsync(2)).statusCode).toBe(500);
    expect(bucket.size).toBe(0);
    // No answer, and the lookup fails too: the run may exist and will read (then delete) them.
    sfn.on(DescribeExecutionCommand).rejects(timeout);
    expect((await postAsync(2)).statusCode).toBe(500);
    expect(bucket.size).toBe(1);
    bucket.clear();
    // A 4xx is a definite refusal.
    sfn.on(StartExecutionCommand).rejects(
      Object.assign(new Error('limit'), {
        name: 'ExecutionLimitExceeded',
        $metadata: { httpStatusCode: 400 },
      }),
    );
    expect((await postAsync(2)).statusCode).toBeGreaterThanOrEqual(400);
    expect(bucket.size).toBe(0);
    expect(sfn.commandCalls(DescribeExecutionCommand)).toHaveLength(2);
  });

  it('answers a running execution with its status and Retry-After', async () => {
    sfn.on(DescribeExecutionCommand).resolves({
      executionArn: executionArn('abc'),
      status: 'RUNNING',
      startDate: new Date('2026-01-01T00:00:00Z'),
    });
    const res = await call(restEvent({ method: 'GET', path: '/executions/abc' }));
    expect(res.statusCode).toBe(200);
    expect(res.headers?.['Retry-After']).toBe('1');
    expect(res.json).toEqual({
      executionId: 'abc',
      executionArn: executionArn('abc'),
      status: 'RUNNING',
      startDate: '2026-01-01T00:00:00.000Z',
    });
    const described = sfn.commandCalls(DescribeExecutionCommand)[0]?.args[0].input;
    expect(described?.executionArn).toBe(executionArn('abc'));
  });

  it('answers a finished execution with exactly the body the sync call would give', async () => {
    bucket.set('staging/x/images', cat);
    await describesFinishedRun('done', 'x', 'nbytes', cat.length);
    const res = await call(restEvent({ method: 'GET', path: '/executions/done' }));
    expect(res.json).toMatchObject({
      status: 'SUCCEEDED',
      result: [720],
      stopDate: expect.any(String),
    });
  });

  it('answers a finished execution whose image the platform lost with a retryable error, no result', async () => {
    await describesFinishedRun('gone', 'gone', 'shape', 10);
    const res = await call(restEvent({ method: 'GET', path: '/executions/gone' }));
    expect(res.statusCode).toBe(200);
    expect(res.json).toEqual({
      executionId: 'gone',
      executionArn: executionArn('gone'),
      status: 'SUCCEEDED',
      startDate: expect.any(String),
      stopDate: expect.any(String),
      error: {
        code: 'ANALYSIS_FAILED',
        message: expect.any(String),
        retryable: true,
        indexes: [0],
      },
    });
  });

  it('answers a failed execution with the error name, not its cause', async () => {
    sfn.on(DescribeExecutionCommand).resolves({
      executionArn: executionArn('bad'),
      status: 'FAILED',
      error: 'States.Timeout',
      cause: 'stack trace at /var/task',
      startDate: new Date(),
      stopDate: new Date(),
    });
    const res = await call(restEvent({ method: 'GET', path: '/executions/bad' }));
    expect(res.json).toMatchObject({
      status: 'FAILED',
      error: { code: 'WORKFLOW_FAILED', workflowError: 'States.Timeout' },
    });
    expect(res.body).not.toContain('stack trace');
  });

  it('returns 404 for an execution that does not exist, or an id that cannot be one', async () => {
    sfn
      .on(DescribeExecutionCommand)
      .rejects(
        Object.assign(new Error('Execution Does Not Exist'), { name: 'ExecutionDoesNotExist' }),
      );
    expect((await call(restEvent({ method: 'GET', path: '/executions/nope' }))).statusCode).toBe(
      404,
    );
    const odd = await call(restEvent({ method: 'GET', path: '/executions/a%20b' }));
    expect(odd.statusCode).toBe(404);
  });

  it('takes more images asynchronously than synchronously, up to its own limit', async () => {
    acceptStarts();
    // The header in lower case, as HTTP APIs deliver it.
    const res = await postAsync(9);
    expect(res.statusCode).toBe(413);
    expect((res.json as { error: { limit: number } }).error.limit).toBe(8);
  });
});
