/**
 * DISTRIBUTED Map in the local Step Functions: real ASL, a real local S3 (s3rver) for the
 * ItemReader and the ResultWriter, and a Lambda-like function behind lambda:invoke with
 * Lambda's JSON boundary — the Map Run AWS would run with the same definition and items.
 */
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Handler,
  type LocalFunction,
  namedError,
  taskInvoker,
} from '../../local/functions.ts';
import { LOCAL_S3_CREDENTIALS, startLocalS3 } from '../../local/s3.ts';
import { LocalStepFunctions } from '../../local/sfn/engine.ts';
import type { Execution, MachineType } from '../../local/sfn/execution.ts';

const BUCKET = 'map-run-test';
const FN = 'arn:aws:lambda:us-east-1:000000000000:function:score';

let s3server: Awaited<ReturnType<typeof startLocalS3>>;
let s3: S3Client;
beforeAll(async () => {
  s3server = await startLocalS3({ host: '127.0.0.1', port: 0, bucket: BUCKET });
  s3 = new S3Client({
    region: 'us-east-1',
    endpoint: s3server.url,
    forcePathStyle: true,
    credentials: LOCAL_S3_CREDENTIALS,
  });
});
afterAll(() => s3server?.close());

interface Item {
  n: number;
  fail?: boolean;
}
type Batch = { BatchInput?: { run: string }; Items: Item[] };

/** The Lambda-like task: squares each number; an item marked `fail` makes it throw. Counts
 * what it saw so tests can check concurrency and inputs. */
const scorer = () => {
  const seen = { calls: 0, inFlight: 0, maxInFlight: 0, inputs: [] as unknown[] };
  const handler: Handler = async (event) => {
    const input = event as Item | Batch;
    seen.calls += 1;
    seen.inputs.push(input);
    seen.inFlight += 1;
    seen.maxInFlight = Math.max(seen.maxInFlight, seen.inFlight);
    try {
      await new Promise((resolve) => setImmediate(resolve));
      const items = 'Items' in input ? input.Items : [input];
      if (items.some((i) => i.fail)) throw namedError('ScoreError', 'cannot score');
      const scores = items.map((i) => ({ n: i.n, square: i.n * i.n }));
      return 'Items' in input ? { run: input.BatchInput?.run, scores } : scores[0];
    } finally {
      seen.inFlight -= 1;
    }
  };
  return { handler, seen };
};

const setup = (handler: Handler) => {
  const fn: LocalFunction = { name: 'score', arn: FN, handler, timeoutSeconds: 5, memoryMb: 128 };
  return new LocalStepFunctions({
    region: 'us-east-1',
    accountId: '000000000000',
    invokeTask: taskInvoker([fn]),
    s3,
  });
};

/** A parent whose one state is the given Map, its children calling the scorer. */
const definition = (map: Record<string, unknown>, executionType: MachineType = 'EXPRESS') =>
  JSON.stringify({
    StartAt: 'Score all',
    States: {
      'Score all': {
        Type: 'Map',
        ...map,
        ItemProcessor: {
          ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: executionType },
          StartAt: 'Score',
          States: {
            Score: {
              Type: 'Task',
              Resource: 'arn:aws:states:::lambda:invoke',
              Parameters: { FunctionName: FN, 'Payload.$': '$' },
              OutputPath: '$.Payload',
              End: true,
            },
          },
        },
        End: true,
      },
    },
  });

let manifests = 0;
const putManifest = async (items: Item[]) => {
  const key = `manifests/${++manifests}.jsonl`;
  const body = `${items.map((i) => JSON.stringify(i)).join('\n')}\n`;
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
  return key;
};
const getJson = async (key: string) => {
  const object = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return JSON.parse((await object.Body?.transformToString()) ?? '') as unknown;
};
const numbers = (count: number, fail: (n: number) => boolean = () => false): Item[] =>
  Array.from({ length: count }, (_, n) => (fail(n) ? { n, fail: true } : { n }));

const reader = {
  Resource: 'arn:aws:states:::s3:getObject',
  ReaderConfig: { InputType: 'JSONL' },
  Parameters: { Bucket: BUCKET, 'Key.$': '$.manifest' },
};
const writer = {
  Resource: 'arn:aws:states:::s3:putObject',
  Parameters: { Bucket: BUCKET, 'Prefix.$': '$.resultsPrefix' },
};

const run = async (sfn: LocalStepFunctions, machineDefinition: string, input: object) => {
  const machine = sfn.createStateMachine({
    name: 'Parent',
    type: 'STANDARD',
    definition: machineDefinition,
  });
  const execution = sfn.start(machine.arn, JSON.stringify(input));
  await execution.settled;
  return execution;
};
const outputOf = (e: Execution) => JSON.parse(e.output ?? 'null');
const mapRunOf = (sfn: LocalStepFunctions, e: Execution) => {
  const [mapRun] = [...sfn.mapRuns.values()].filter((m) => m.executionArn === e.executionArn);
  if (!mapRun) throw new Error('no Map Run');
  return mapRun;
};

describe('local Step Functions: DISTRIBUTED Map over an S3 manifest', () => {
  it('batches 1,200 JSONL items by count, runs Express children and writes the results to S3', async () => {
    const { handler, seen } = scorer();
    const sfn = setup(handler);
    const manifest = await putManifest(numbers(1200));
    const execution = await run(
      sfn,
      definition({
        Label: 'Scores',
        ItemReader: reader,
        ItemBatcher: { MaxItemsPerBatch: 50, BatchInput: { 'run.$': '$.runName' } },
        MaxConcurrencyPath: '$.concurrency',
        ResultWriter: writer,
      }),
      { manifest, runName: 'first', resultsPrefix: 'results/first', concurrency: 8 },
    );
    expect(execution.status).toBe('SUCCEEDED');

    const mapRun = mapRunOf(sfn, execution);
    expect(mapRun.mapRunArn).toMatch(
      /^arn:aws:states:us-east-1:000000000000:mapRun:Parent\/Scores:[0-9a-f-]{36}$/,
    );
    const manifestKey = `results/first/${mapRun.id}/manifest.json`;
    expect(outputOf(execution)).toEqual({
      MapRunArn: mapRun.mapRunArn,
      ResultWriterDetails: { Bucket: BUCKET, Key: manifestKey },
    });

    const written = (await getJson(manifestKey)) as {
      DestinationBucket: string;
      MapRunArn: string;
      ResultFiles: Record<string, { Key: string; Size: number }[]>;
    };
    expect(written.DestinationBucket).toBe(BUCKET);
    expect(written.MapRunArn).toBe(mapRun.mapRunArn);
    expect(written.ResultFiles.FAILED).toEqual([]);
    expect(written.ResultFiles.PENDING).toEqual([]);
    const [succeededFile] = written.ResultFiles.SUCCEEDED ?? [];
    expect(succeededFile?.Key).toBe(`results/first/${mapRun.id}/SUCCEEDED_0.json`);
    const records = (await getJson(succeededFile?.Key ?? '')) as Record<string, unknown>[];
    expect(records).toHaveLength(24);
    expect(JSON.stringify(records).length).toBe(succeededFile?.Size);
    expect(records[0]).toMatchObject({
      ExecutionArn: expect.stringMatching(/:express:Parent\/Scores:[0-9a-f-]{36}:[0-9a-f-]{36}$/),
      StateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:Parent/Scores',
      Status: 'SUCCEEDED',
      InputDetails: { Included: true },
      OutputDetails: { Included: true },
      StartDate: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    const outputs = records.map((r) => JSON.parse(r.Output as string) as Batch & { run: string });
    expect(outputs.every((o) => o.run === 'first')).toBe(true);
    const squares = outputs.flatMap(
      (o) => (o as unknown as { scores: { n: number; square: number }[] }).scores,
    );
    expect(squares.map((s) => s.n).sort((a, b) => a - b)).toEqual(numbers(1200).map((i) => i.n));
    expect(squares.every((s) => s.square === s.n * s.n)).toBe(true);

    expect(seen.calls).toBe(24);
    expect(seen.maxInFlight).toBeLessThanOrEqual(8);
    expect(mapRun.describe()).toMatchObject({
      status: 'SUCCEEDED',
      maxConcurrency: 8,
      itemCounts: { total: 1200, succeeded: 1200, pending: 0, running: 0, resultsWritten: 1200 },
      executionCounts: { total: 24, succeeded: 24, failed: 0, resultsWritten: 24 },
    });
  });

  it('keeps every batch within MaxInputBytesPerBatch, BatchInput and Items included', async () => {
    const { handler, seen } = scorer();
    const sfn = setup(handler);
    const items = numbers(1000).map((i) => ({ ...i, pad: 'x'.repeat(i.n % 97) }));
    const manifest = await putManifest(items);
    const execution = await run(
      sfn,
      definition({
        ItemReader: reader,
        ItemBatcher: { MaxInputBytesPerBatch: 4096, BatchInput: { run: 'bytes' } },
      }),
      { manifest },
    );
    expect(execution.status).toBe('SUCCEEDED');
    const inputs = seen.inputs as Batch[];
    expect(inputs.length).toBeGreaterThan(1);
    for (const input of inputs) {
      expect(Buffer.byteLength(JSON.stringify(input))).toBeLessThanOrEqual(4096);
      expect(input.BatchInput).toEqual({ run: 'bytes' });
    }
    // Full batches: adding the next item would have passed the limit.
    const received = inputs.flatMap((b) => b.Items.map((i) => i.n));
    expect(received.sort((a, b) => a - b)).toEqual(items.map((i) => i.n));
    // Without ResultWriter the Map's output is the children's outputs, in item order.
    const output = outputOf(execution) as { scores: { n: number }[] }[];
    expect(output.flatMap((o) => o.scores.map((s) => s.n))).toEqual(items.map((i) => i.n));
  });

  it('tolerates failed items within ToleratedFailurePercentage and lists them in FAILED_0.json', async () => {
    const { handler } = scorer();
    const sfn = setup(handler);
    const manifest = await putManifest(numbers(1000, (n) => n % 50 === 7));
    const execution = await run(
      sfn,
      definition({ ItemReader: reader, ToleratedFailurePercentage: 5, ResultWriter: writer }),
      { manifest, resultsPrefix: 'results/tolerated/' },
    );
    expect(execution.status).toBe('SUCCEEDED');
    const mapRun = mapRunOf(sfn, execution);
    expect(mapRun.describe()).toMatchObject({
      status: 'SUCCEEDED',
      toleratedFailurePercentage: 5,
      itemCounts: { total: 1000, succeeded: 980, failed: 20 },
      executionCounts: { total: 1000, succeeded: 980, failed: 20 },
    });
    const written = (await getJson(`results/tolerated/${mapRun.id}/manifest.json`)) as {
      ResultFiles: { FAILED: { Key: string }[] };
    };
    const failed = (await getJson(written.ResultFiles.FAILED[0]?.Key ?? '')) as {
      Input: string;
      Error: string;
      Cause: string;
      Status: string;
    }[];
    expect(failed).toHaveLength(20);
    expect(failed[0]).toMatchObject({ Status: 'FAILED', Error: 'ScoreError' });
    expect(JSON.parse(failed[0]?.Cause ?? '')).toEqual({
      errorType: 'ScoreError',
      errorMessage: 'cannot score',
    });
    expect(failed.map((f) => (JSON.parse(f.Input) as Item).n % 50)).toEqual(Array(20).fill(7));
  });

  it('fails with States.ExceedToleratedFailureThreshold past ToleratedFailureCount, which Catch can handle', async () => {
    const { handler } = scorer();
    const sfn = setup(handler);
    const manifest = await putManifest(numbers(200, (n) => n % 10 === 0));
    const parsed = JSON.parse(
      definition({ ItemReader: reader, ToleratedFailureCount: 3, MaxConcurrency: 4 }),
    );
    parsed.States['Score all'].End = undefined;
    parsed.States['Score all'].Next = 'Done';
    parsed.States['Score all'].Catch = [
      {
        ErrorEquals: ['States.ExceedToleratedFailureThreshold'],
        ResultPath: '$.failure',
        Next: 'Done',
      },
    ];
    parsed.States.Done = { Type: 'Pass', End: true };
    const execution = await run(sfn, JSON.stringify(parsed), { manifest });
    expect(execution.status).toBe('SUCCEEDED');
    expect(outputOf(execution).failure.Error).toBe('States.ExceedToleratedFailureThreshold');
    const mapRun = mapRunOf(sfn, execution);
    const described = mapRun.describe();
    expect(described.status).toBe('FAILED');
    expect(described.itemCounts.failed).toBeGreaterThan(3);
    // It stopped early: items were left unstarted.
    expect(described.itemCounts.pending).toBeGreaterThan(0);
    const types = execution.history.events.map((e) => e.type);
    expect(types).toContain('MapRunFailed');
    expect(types.indexOf('MapRunFailed')).toBeLessThan(types.indexOf('MapStateFailed'));
  });
});

describe('local Step Functions: DISTRIBUTED Map over S3 objects and its parent stopping', () => {
  it('reads one item per object with listObjectsV2, shaped as the ItemReader documents', async () => {
    const sfn = setup(async (event) => event);
    for (const name of ['a', 'b', 'c']) {
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `listed/${name}`, Body: name }));
    }
    const parsed = JSON.parse(
      definition({
        ItemReader: {
          Resource: 'arn:aws:states:::s3:listObjectsV2',
          Parameters: { Bucket: BUCKET, Prefix: 'listed/' },
        },
      }),
    );
    const execution = await run(sfn, JSON.stringify(parsed), {});
    expect(execution.status).toBe('SUCCEEDED');
    const listed = outputOf(execution) as Record<string, unknown>[];
    expect(listed.map((o) => o.Key)).toEqual(['listed/a', 'listed/b', 'listed/c']);
    parsed.States['Score all'].ItemReader.ReaderConfig = { MaxItems: 2 };
    const capped = await run(sfn, JSON.stringify(parsed), {});
    expect(outputOf(capped)).toEqual(listed.slice(0, 2));
    expect(listed[0]).toEqual({
      Etag: expect.stringMatching(/^".+"$/),
      Key: 'listed/a',
      LastModified: expect.any(Number),
      Size: 1,
      StorageClass: 'STANDARD',
    });
  });

  it('aborts the Map Run and its running children when the parent execution stops', async () => {
    const sfn = setup(() => new Promise(() => undefined));
    const machine = sfn.createStateMachine({
      name: 'Stopped',
      type: 'STANDARD',
      definition: definition({ ItemsPath: '$.items', MaxConcurrency: 2 }, 'STANDARD'),
    });
    const execution = sfn.start(machine.arn, JSON.stringify({ items: numbers(5) }));
    while (sfn.mapRuns.size === 0 || mapRunOf(sfn, execution).executionCounts.running < 2) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    execution.stop('Cancelled', 'by the test');
    await execution.settled;
    const mapRun = mapRunOf(sfn, execution);
    await Promise.all([...mapRun.children.values()].map((c) => c.settled));
    expect(execution.status).toBe('ABORTED');
    expect(mapRun.status).toBe('ABORTED');
    expect([...mapRun.children.values()].map((c) => c.status)).toEqual(['ABORTED', 'ABORTED']);
    const types = execution.history.events.map((e) => e.type);
    expect(types.slice(-2)).toEqual(['MapRunAborted', 'ExecutionAborted']);
  });
});

describe('local Step Functions: DISTRIBUTED Map over its input', () => {
  it('applies ItemsPath and ItemSelector with the Map context, and outputs the children results in order', async () => {
    const { handler, seen } = scorer();
    const sfn = setup(handler);
    const execution = await run(
      sfn,
      definition(
        {
          ItemsPath: '$.numbers',
          ItemSelector: {
            'n.$': '$$.Map.Item.Value',
            'index.$': '$$.Map.Item.Index',
            'tag.$': '$.tag',
          },
          ResultPath: '$.scores',
        },
        'STANDARD',
      ),
      { numbers: [3, 1, 2], tag: 't' },
    );
    expect(execution.status).toBe('SUCCEEDED');
    expect(seen.inputs).toEqual(
      expect.arrayContaining([
        { n: 3, index: 0, tag: 't' },
        { n: 1, index: 1, tag: 't' },
        { n: 2, index: 2, tag: 't' },
      ]),
    );
    expect(outputOf(execution)).toEqual({
      numbers: [3, 1, 2],
      tag: 't',
      scores: [
        { n: 3, square: 9 },
        { n: 1, square: 1 },
        { n: 2, square: 4 },
      ],
    });
  });

  it('records the Map Run in the parent history and keeps its Standard children describable', async () => {
    const { handler } = scorer();
    const sfn = setup(handler);
    const execution = await run(sfn, definition({ ItemsPath: '$.numbers' }, 'STANDARD'), {
      numbers: [{ n: 1 }, { n: 2 }],
    });
    const types = execution.history.events.map((e) => e.type);
    expect(types).toEqual([
      'ExecutionStarted',
      'MapStateEntered',
      'MapStateStarted',
      'MapRunStarted',
      'MapRunSucceeded',
      'MapStateSucceeded',
      'MapStateExited',
      'ExecutionSucceeded',
    ]);
    const mapRun = mapRunOf(sfn, execution);
    expect(execution.history.events[3]).toMatchObject({
      mapRunStartedEventDetails: { mapRunArn: mapRun.mapRunArn },
    });
    const [child] = mapRun.children.values();
    expect(child?.executionArn).toMatch(
      /^arn:aws:states:us-east-1:000000000000:execution:Parent\/Scoreall:[0-9a-f-]{36}$/,
    );
    expect(sfn.describable(child?.executionArn ?? '')).toBe(child);
    expect(child?.mapRunArn).toBe(mapRun.mapRunArn);
    // Children are not the parent machine's executions.
    expect(sfn.all().map((e) => e.executionArn)).toEqual([execution.executionArn]);
  });

  it('refuses, when the machine is created, an ItemReader it cannot read faithfully', () => {
    const sfn = setup(scorer().handler);
    expect(() =>
      sfn.createStateMachine({
        name: 'Csv',
        type: 'STANDARD',
        definition: definition({ ItemReader: { ...reader, ReaderConfig: { InputType: 'CSV' } } }),
      }),
    ).toThrow(/InputType CSV is not supported/);
  });
});
