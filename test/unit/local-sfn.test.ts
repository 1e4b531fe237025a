/**
 * The local Step Functions engine running the real ASL file, with the analysis handler behind
 * the lambda:invoke integration: what AWS would do with the same definition and inputs.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DeleteObjectCommand, GetObjectCommand, NoSuchKey, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { analyzeEvent, answerFor } from '../../lambdas/analyze/analyze-item.ts';
import type { AnalyzeEvent, Chunk } from '../../lambdas/shared/workflow.ts';
import {
  type Handler,
  type LocalFunction,
  namedError,
  taskInvoker,
} from '../../local/functions.ts';
import { LocalStepFunctions } from '../../local/sfn/engine.ts';
import type { SfnApiError } from '../../local/sfn/errors.ts';
import { CRASHED } from '../../local/sfn/persistence.ts';
import { ExecutionStore } from '../../local/store.ts';
import { loadDefinition } from '../../statemachine/definition.ts';
import { fixtureImage } from '../support/fixtures.ts';
import { chunkedInput } from '../support/workflow-input.ts';

const ARN = 'arn:aws:lambda:us-east-1:000000000000:function:image-analyze';
const s3 = new S3Client({ region: 'us-east-1' });
/** The staging bucket, as far as the analysis needs one: items reference what is put here. */
const objects = new Map<string, Buffer>();
const s3Mock = mockClient(S3Client);
s3Mock.on(GetObjectCommand).callsFake(async ({ Key, Range }: { Key: string; Range: string }) => {
  const object = objects.get(Key);
  if (!object) throw new NoSuchKey({ message: 'gone', $metadata: {} });
  const [, start, end] = /^bytes=(\d+)-(\d+)$/.exec(Range) ?? [];
  const bytes = object.subarray(Number(start), Number(end) + 1);
  return { Body: { transformToByteArray: async () => new Uint8Array(bytes) } };
});
s3Mock.on(DeleteObjectCommand).callsFake(async ({ Key }: { Key: string }) => {
  objects.delete(Key);
  return {};
});
/** The analysis handler's work without its middy chain: records cut to the chunk's view. */
const analyze: Handler = async (event) =>
  answerFor(event as AnalyzeEvent, await analyzeEvent(event as AnalyzeEvent, { s3 }));
/** The indexes of the images a chunk holds. */
const indexesOf = (event: unknown) => (event as Chunk).Items.map((item) => item.index);

const setup = (
  handler: Handler = analyze,
  options: { expressMaxMs?: number; store?: ExecutionStore } = {},
) => {
  const fn: LocalFunction = {
    name: 'image-analyze',
    arn: ARN,
    handler,
    timeoutSeconds: 5,
    memoryMb: 1024,
  };
  const sfn = new LocalStepFunctions({
    region: 'us-east-1',
    accountId: '000000000000',
    invokeTask: taskInvoker([fn], { s3 }),
    retainExpressExecutions: 3,
    ...options,
  });
  const definition = loadDefinition({ AnalyzeFunctionArn: ARN });
  return {
    sfn,
    express: sfn.createStateMachine({ name: 'Sync', type: 'EXPRESS', definition }),
    standard: sfn.createStateMachine({ name: 'Async', type: 'STANDARD', definition }),
  };
};

/** An execution input as the ingest makes it, its images staged as one object and cut into
 * chunks of the given sizes (one chunk of all by default). */
const inputOf = (images: Buffer[], chunks?: number[]) => {
  const staged = { bucket: 'staging', key: `staging/${randomUUID()}/images` };
  objects.set(staged.key, Buffer.concat(images));
  return JSON.stringify(chunkedInput({ staged, sizes: images.map((b) => b.length), chunks }));
};

const cat = fixtureImage('photo_400x600.jpg');
const gray = fixtureImage('gray_300x200.jpg');
const truncated = fixtureImage('truncated_jpeg.jpg');

const apiError = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return error as SfnApiError;
  }
  throw new Error('expected an API error');
};

describe('local Step Functions: running the workflow', () => {
  it('analyzes every chunk in one invocation and collects the records in upload order', async () => {
    const invoked: number[][] = [];
    const { sfn, express } = setup(async (event, context) => {
      invoked.push(indexesOf(event));
      return analyze(event, context);
    });
    const run = sfn.start(express.arn, inputOf([cat, truncated, gray], [2, 1]));
    await run.settled;
    expect(run.status).toBe('SUCCEEDED');
    expect(invoked.sort((a, b) => (a[0] ?? 0) - (b[0] ?? 0))).toEqual([[0, 1], [2]]);
    const output = JSON.parse(run.output ?? '');
    expect(output.request).toEqual({ view: 'shape', multipart: true });
    // A /shape run's records: the index and the shape, or the error.
    expect(output.results).toEqual([
      { index: 0, shape: [600, 400, 3] },
      { index: 1, error: expect.objectContaining({ code: 'CORRUPT_IMAGE' }) },
      { index: 2, shape: [200, 300] },
    ]);
  });

  it('turns a crashing invocation into one record with an error per image of its chunk, and the batch succeeds', async () => {
    const { sfn, express } = setup(async (event, context) => {
      if (indexesOf(event).includes(1)) throw namedError('RangeError', 'secret internals');
      return analyze(event, context);
    });
    const run = sfn.start(express.arn, inputOf([cat, gray, cat], [1, 2]));
    await run.settled;
    expect(run.status).toBe('SUCCEEDED');
    const { results } = JSON.parse(run.output ?? '');
    expect(results).toHaveLength(3);
    expect(results[0]).toMatchObject({ index: 0, shape: [600, 400, 3] });
    const failed = (index: number, bytes: number) => ({
      index,
      name: 'image',
      filename: `${index}.img`,
      contentType: null,
      bytes,
      error: {
        code: 'ANALYSIS_FAILED',
        message: 'The analysis of this image failed (RangeError).',
        retryable: false,
      },
    });
    expect(results.slice(1)).toEqual([failed(1, gray.length), failed(2, cat.length)]);
    expect(run.output).not.toContain('secret internals');
  });

  it("retries Lambda's transient errors before giving up on a chunk", async () => {
    let calls = 0;
    const { sfn, express } = setup(async (event, context) => {
      calls += 1;
      if (calls === 1) throw namedError('Lambda.TooManyRequestsException', 'Rate exceeded');
      return analyze(event, context);
    });
    const run = sfn.start(express.arn, inputOf([gray]));
    await run.settled;
    expect(calls).toBe(2);
    expect(JSON.parse(run.output ?? '').results[0].shape).toEqual([200, 300]);
  });

  it('fails the execution with States.DataLimitExceeded when a result passes 256 KiB, Catch or not', async () => {
    const { sfn, express } = setup(async () => ({ index: 0, padding: 'x'.repeat(300_000) }));
    const run = sfn.start(express.arn, inputOf([gray]));
    await run.settled;
    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('States.DataLimitExceeded');
    expect(run.history.events.at(-1)?.type).toBe('ExecutionFailed');
  });

  it('times an Express execution out at its cap', async () => {
    const { sfn, express } = setup(() => new Promise(() => undefined), { expressMaxMs: 200 });
    const run = sfn.start(express.arn, inputOf([gray]));
    await run.settled;
    expect(run.status).toBe('TIMED_OUT');
    expect(run.history.events.at(-1)?.type).toBe('ExecutionTimedOut');
  });

  it('stops a running execution as ABORTED', async () => {
    const { sfn, standard } = setup(() => new Promise(() => undefined));
    const run = sfn.start(standard.arn, inputOf([gray]));
    run.stop('Cancelled', 'by the test');
    await run.settled;
    expect(run.status).toBe('ABORTED');
    expect(run.history.events.at(-1)).toMatchObject({
      type: 'ExecutionAborted',
      executionAbortedEventDetails: { error: 'Cancelled', cause: 'by the test' },
    });
  });
});

describe('local Step Functions: what the API refuses, as AWS does', () => {
  it('refuses an input over 256 KiB', () => {
    const { sfn, express } = setup();
    const error = apiError(() =>
      sfn.start(express.arn, JSON.stringify({ chunks: [], padding: 'x'.repeat(270_000) })),
    );
    expect(error.type).toBe('ValidationException');
  });

  it('refuses input that is not JSON, and names that are not allowed', () => {
    const { sfn, express } = setup();
    expect(apiError(() => sfn.start(express.arn, '{')).type).toBe('InvalidExecutionInput');
    expect(apiError(() => sfn.start(express.arn, '{}', 'a b')).type).toBe('InvalidName');
  });

  it('refuses a second STANDARD execution with the same name', async () => {
    const { sfn, standard } = setup();
    await sfn.start(standard.arn, inputOf([gray]), 'once').settled;
    expect(apiError(() => sfn.start(standard.arn, inputOf([gray]), 'once')).type).toBe(
      'ExecutionAlreadyExists',
    );
  });

  it('does not describe Express executions (InvalidArn) but does describe Standard ones', async () => {
    const { sfn, express, standard } = setup();
    const quick = sfn.start(express.arn, inputOf([gray]));
    const kept = sfn.start(standard.arn, inputOf([gray]));
    await Promise.all([quick.settled, kept.settled]);
    expect(quick.executionArn).toContain(':express:Sync:');
    expect(apiError(() => sfn.describable(quick.executionArn)).type).toBe('InvalidArn');
    expect(sfn.describable(kept.executionArn)).toBe(kept);
    expect(apiError(() => sfn.describable(`${kept.executionArn}x`)).type).toBe(
      'ExecutionDoesNotExist',
    );
  });

  it('keeps only the latest finished Express executions, and every Standard one', async () => {
    const { sfn, express, standard } = setup();
    const polled = await Promise.all(
      Array.from({ length: 4 }, () => sfn.start(standard.arn, inputOf([gray])).settled),
    );
    for (let i = 0; i < 5; i++) await sfn.start(express.arn, inputOf([gray])).settled;
    expect(polled).toHaveLength(4);
    const kept = sfn.all();
    expect(kept.filter((e) => e.type === 'EXPRESS')).toHaveLength(3);
    expect(kept.filter((e) => e.type === 'STANDARD')).toHaveLength(4);
  });
});

describe('local Step Functions: executions that outlive the runtime', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });
  const storeDir = async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'image-batch-store-'));
    dirs.push(dir);
    return dir;
  };
  const DAY = 24 * 60 * 60 * 1000;

  it('reads stopped runs back with their history, and ends a run left RUNNING as FAILED', async () => {
    const dir = await storeDir();
    const first = setup(analyze, { store: new ExecutionStore(dir) });
    const done = first.sfn.start(first.standard.arn, inputOf([gray]));
    await done.settled;
    await first.sfn.flush();
    // A run whose process died: its record says RUNNING.
    const cut = inputOf([gray]);
    await new ExecutionStore(dir).save({
      executionArn: `${first.standard.arn.replace(':stateMachine:', ':execution:')}:cut`,
      stateMachineArn: first.standard.arn,
      name: 'cut',
      type: 'STANDARD',
      status: 'RUNNING',
      input: cut,
      startDate: new Date().toISOString(),
    });

    const second = setup(analyze, { store: new ExecutionStore(dir) });
    const abandoned: string[] = [];
    await second.sfn.restore(async (input) => {
      abandoned.push(input);
    });
    const again = second.sfn.describable(done.executionArn);
    expect(again).toMatchObject({ status: 'SUCCEEDED', output: done.output });
    expect(again.history.events.map((e) => e.type)).toEqual(done.history.events.map((e) => e.type));
    expect(again.history.events[0]?.timestamp).toEqual(done.history.events[0]?.timestamp);
    const crashed = second.sfn.describable(`${done.executionArn.replace(/:[^:]+$/, '')}:cut`);
    expect(crashed).toMatchObject({ status: 'FAILED', ...CRASHED });
    expect(crashed.history.events.map((e) => e.type)).toEqual([
      'ExecutionStarted',
      'ExecutionFailed',
    ]);
    expect(abandoned).toEqual([cut]);
  });

  it('drops a Standard run 90 days after it stopped, and keeps no Express run on disk', async () => {
    const dir = await storeDir();
    const store = new ExecutionStore(dir);
    const { sfn, express, standard } = setup(analyze, { store });
    await sfn.start(express.arn, inputOf([gray])).settled;
    await sfn.flush();
    expect(await readdir(dir)).toEqual([]);
    const old = (name: string, days: number) =>
      store.save({
        executionArn: `${standard.arn.replace(':stateMachine:', ':execution:')}:${name}`,
        stateMachineArn: standard.arn,
        name,
        type: 'STANDARD',
        status: 'SUCCEEDED',
        input: '{}',
        output: '[]',
        startDate: new Date(Date.now() - days * DAY).toISOString(),
        stopDate: new Date(Date.now() - days * DAY).toISOString(),
        events: [],
      });
    await Promise.all([old('expired', 91), old('kept', 89)]);

    const later = setup(analyze, { store: new ExecutionStore(dir) });
    await later.sfn.restore();
    expect(later.sfn.all().map((e) => e.name)).toEqual(['kept']);
    expect(await readdir(dir)).toEqual([`${standard.name}.kept.json`]);
  });
});
