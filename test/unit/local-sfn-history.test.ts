/**
 * The local engine's GetExecutionHistory, pinned against what AWS writes.
 *
 * References:
 * - Field names: https://docs.aws.amazon.com/step-functions/latest/apireference/API_HistoryEvent.html
 *   and its detail types (StateEnteredEventDetails: name, input, inputDetails; TaskScheduled-
 *   EventDetails: resourceType, resource, region, parameters, timeoutInSeconds; TaskSucceeded-
 *   EventDetails: resourceType, resource, output, outputDetails; MapStateStartedEventDetails:
 *   length; MapIterationEventDetails: name, index).
 * - Ids and links: the GetExecutionHistory example in
 *   https://docs.aws.amazon.com/step-functions/latest/dg/sfn-local-test-sm-exec.html (a Lambda
 *   Task then another Task: TaskStateEntered id 2 previousEventId 0, TaskSucceeded id 5
 *   previousEventId 4, the next TaskStateEntered id 7 previousEventId 6).
 * - Map, retry and catch sequences: histories recorded from AWS and published with LocalStack's
 *   parity tests (tests/aws/services/stepfunctions/v2/scenarios/test_base_scenarios.snapshot.json,
 *   error_handling/test_task_service_lambda.snapshot.json).
 *
 * The Task's Lambda here is a plain function: these tests are about the history, not the analysis.
 */
import { HistoryEvent$, HistoryEventType } from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import type { Chunk } from '../../lambdas/shared/workflow.ts';
import { LocalStepFunctions } from '../../local/sfn/engine.ts';
import { History } from '../../local/sfn/history.ts';
import type { HistoryEvent } from '../../local/sfn/history-events.ts';
import { loadDefinition } from '../../statemachine/definition.ts';
import { chunkedInput } from '../support/workflow-input.ts';

const FN = 'arn:aws:lambda:us-east-1:000000000000:function:history-test';

/** lambda:invoke as the local runtime answers it: the function's result under Payload. */
type Fn = (payload: unknown) => Promise<unknown>;
const engine = (fn: Fn) =>
  new LocalStepFunctions({
    region: 'us-east-1',
    accountId: '000000000000',
    invokeTask: async (resource, input) => {
      // The workflow's other integration (deleting the staged object) succeeds with no output.
      if (!resource.endsWith(':lambda:invoke')) return {};
      const { Payload } = input as { Payload: unknown };
      return { ExecutedVersion: '$LATEST', Payload: await fn(Payload), StatusCode: 200 };
    },
  });

const named = (name: string, message: string) => Object.assign(new Error(message), { name });

const run = async (definition: object | string, input: unknown, fn: Fn) => {
  const sfn = engine(fn);
  const text = typeof definition === 'string' ? definition : JSON.stringify(definition);
  const machine = sfn.createStateMachine({ name: 'History', type: 'STANDARD', definition: text });
  const execution = sfn.start(machine.arn, JSON.stringify(input));
  await execution.settled;
  return execution.history.events;
};

const invoke = (extra: object = {}) => ({
  Type: 'Task',
  Resource: 'arn:aws:states:::lambda:invoke',
  Parameters: { FunctionName: FN, 'Payload.$': '$' },
  OutputPath: '$.Payload',
  ...extra,
});

const mapOf = (processor: object, extra: object = {}) => ({
  StartAt: 'Each',
  States: {
    Each: {
      Type: 'Map',
      ItemsPath: '$.items',
      ItemProcessor: { ProcessorConfig: { Mode: 'INLINE' }, ...processor },
      End: true,
      ...extra,
    },
  },
});

/** [id, previousEventId, type] — the skeleton AWS's examples are compared on. */
const skeleton = (events: HistoryEvent[]) =>
  events.map((e) => [e.id, e.previousEventId, e.type] as const);

const byId = (events: HistoryEvent[], id: number) => events.find((e) => e.id === id);

/**
 * Keys a value has that the AWS API model does not define. The model is the SDK's own schema
 * of HistoryEvent (structure schemas: [3, namespace, name, traits, memberNames, memberSchemas]),
 * generated from the service's API definition: the field names are AWS's, not ours.
 */
type Schema = unknown;
const resolve = (s: Schema): Schema => {
  if (typeof s === 'function') return resolve(s());
  if (Array.isArray(s) && typeof s[0] === 'function') return resolve(s[0]);
  return s;
};
const unknownKeys = (schema: Schema, value: unknown, path: string): string[] => {
  const s = resolve(schema);
  if (!Array.isArray(s) || s[0] !== 3 || value === null || typeof value !== 'object') return [];
  const names = s[4] as string[];
  const members = s[5] as Schema[];
  return Object.entries(value).flatMap(([key, v]) => {
    const at = names.indexOf(key);
    if (at < 0) return [`${path}.${key}`];
    return v instanceof Date ? [] : unknownKeys(members[at], v, `${path}.${key}`);
  });
};
const checkModel = (events: HistoryEvent[]) => {
  const types = new Set(Object.values(HistoryEventType) as string[]);
  for (const e of events) {
    expect(types.has(e.type), `${e.type} is a HistoryEventType`).toBe(true);
    expect(unknownKeys(HistoryEvent$, e, e.type)).toEqual([]);
  }
};

describe('the history of a Lambda Task, as in AWS', () => {
  it('numbers and links the events like the documented GetExecutionHistory example', async () => {
    const events = await run(
      {
        StartAt: 'LambdaState',
        States: {
          LambdaState: invoke({ Next: 'SecondState' }),
          SecondState: invoke({ End: true }),
        },
      },
      { hello: 'world' },
      async (payload) => payload,
    );
    expect(skeleton(events)).toEqual([
      [1, 0, 'ExecutionStarted'],
      [2, 0, 'TaskStateEntered'],
      [3, 2, 'TaskScheduled'],
      [4, 3, 'TaskStarted'],
      [5, 4, 'TaskSucceeded'],
      [6, 5, 'TaskStateExited'],
      [7, 6, 'TaskStateEntered'],
      [8, 7, 'TaskScheduled'],
      [9, 8, 'TaskStarted'],
      [10, 9, 'TaskSucceeded'],
      [11, 10, 'TaskStateExited'],
      [12, 11, 'ExecutionSucceeded'],
    ]);
    expect(byId(events, 2)).toMatchObject({
      stateEnteredEventDetails: {
        name: 'LambdaState',
        input: '{"hello":"world"}',
        inputDetails: { truncated: false },
      },
    });
    expect(byId(events, 3)).toMatchObject({
      taskScheduledEventDetails: {
        resourceType: 'lambda',
        resource: 'invoke',
        region: 'us-east-1',
        parameters: JSON.stringify({ FunctionName: FN, Payload: { hello: 'world' } }),
      },
    });
    expect(byId(events, 4)).toEqual(
      expect.objectContaining({
        taskStartedEventDetails: { resourceType: 'lambda', resource: 'invoke' },
      }),
    );
    // The integration's whole response, before OutputPath picked the Payload.
    const succeeded = byId(events, 5)?.taskSucceededEventDetails as { output: string };
    expect(JSON.parse(succeeded.output)).toEqual({
      ExecutedVersion: '$LATEST',
      Payload: { hello: 'world' },
      StatusCode: 200,
    });
    expect(byId(events, 6)).toMatchObject({
      stateExitedEventDetails: { name: 'LambdaState', output: '{"hello":"world"}' },
    });
  });

  it('records each retry as TaskFailed then TaskScheduled again, and a Catch as TaskStateExited', async () => {
    let attempts = 0;
    const events = await run(
      {
        StartAt: 'Call',
        States: {
          Call: invoke({
            TimeoutSeconds: 60,
            Retry: [{ ErrorEquals: ['Busy'], IntervalSeconds: 0, MaxAttempts: 1 }],
            Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'Handle' }],
            End: true,
          }),
          Handle: { Type: 'Pass', End: true },
        },
      },
      { n: 1 },
      async () => {
        attempts += 1;
        throw named(attempts === 1 ? 'Busy' : 'Broken', 'no luck');
      },
    );
    expect(skeleton(events)).toEqual([
      [1, 0, 'ExecutionStarted'],
      [2, 0, 'TaskStateEntered'],
      [3, 2, 'TaskScheduled'],
      [4, 3, 'TaskStarted'],
      [5, 4, 'TaskFailed'],
      [6, 5, 'TaskScheduled'],
      [7, 6, 'TaskStarted'],
      [8, 7, 'TaskFailed'],
      [9, 8, 'TaskStateExited'],
      [10, 9, 'PassStateEntered'],
      [11, 10, 'PassStateExited'],
      [12, 11, 'ExecutionSucceeded'],
    ]);
    expect(byId(events, 3)).toMatchObject({ taskScheduledEventDetails: { timeoutInSeconds: 60 } });
    expect(byId(events, 8)).toMatchObject({
      taskFailedEventDetails: {
        resourceType: 'lambda',
        resource: 'invoke',
        error: 'Broken',
        cause: 'no luck',
      },
    });
    const exited = byId(events, 9)?.stateExitedEventDetails as { output: string };
    expect(JSON.parse(exited.output)).toEqual({
      n: 1,
      failure: { Error: 'Broken', Cause: 'no luck' },
    });
  });

  it('ends with ExecutionFailed after an uncaught TaskFailed', async () => {
    const events = await run(
      { StartAt: 'Call', States: { Call: invoke({ End: true }) } },
      {},
      async () => {
        throw named('Broken', 'no luck');
      },
    );
    expect(skeleton(events).slice(-2)).toEqual([
      [5, 4, 'TaskFailed'],
      [6, 5, 'ExecutionFailed'],
    ]);
    expect(events.at(-1)).toMatchObject({
      executionFailedEventDetails: { error: 'Broken', cause: 'no luck' },
    });
  });
});

describe('the history of an inline Map, as in AWS', () => {
  it('chains iterations run one at a time like the recorded AWS history', async () => {
    const events = await run(
      mapOf(
        { StartAt: 'Pass', States: { Pass: { Type: 'Pass', End: true } } },
        { MaxConcurrency: 1 },
      ),
      { items: [1, 'two'] },
      async (payload) => payload,
    );
    expect(skeleton(events)).toEqual([
      [1, 0, 'ExecutionStarted'],
      [2, 0, 'MapStateEntered'],
      [3, 2, 'MapStateStarted'],
      [4, 3, 'MapIterationStarted'],
      [5, 4, 'PassStateEntered'],
      [6, 5, 'PassStateExited'],
      [7, 6, 'MapIterationSucceeded'],
      // The next iteration follows the last event of the one before, not MapIterationSucceeded.
      [8, 6, 'MapIterationStarted'],
      [9, 8, 'PassStateEntered'],
      [10, 9, 'PassStateExited'],
      [11, 10, 'MapIterationSucceeded'],
      // Both follow the last MapIterationSucceeded.
      [12, 11, 'MapStateSucceeded'],
      [13, 11, 'MapStateExited'],
      [14, 13, 'ExecutionSucceeded'],
    ]);
    expect(byId(events, 3)).toMatchObject({ mapStateStartedEventDetails: { length: 2 } });
    expect(byId(events, 8)).toMatchObject({
      mapIterationStartedEventDetails: { name: 'Each', index: 1 },
    });
    expect(byId(events, 12)).toEqual(expect.not.objectContaining({ stateExitedEventDetails: {} }));
  });

  it('records an empty Map as started with length 0, then succeeded', async () => {
    const events = await run(
      mapOf({ StartAt: 'Pass', States: { Pass: { Type: 'Pass', End: true } } }),
      { items: [] },
      async (payload) => payload,
    );
    expect(skeleton(events)).toEqual([
      [1, 0, 'ExecutionStarted'],
      [2, 0, 'MapStateEntered'],
      [3, 2, 'MapStateStarted'],
      [4, 3, 'MapStateSucceeded'],
      [5, 3, 'MapStateExited'],
      [6, 5, 'ExecutionSucceeded'],
    ]);
    expect(byId(events, 3)).toMatchObject({ mapStateStartedEventDetails: { length: 0 } });
  });

  it('fails the Map from the failed iteration: MapIterationFailed, MapStateFailed, ExecutionFailed', async () => {
    const events = await run(
      mapOf({ StartAt: 'Call', States: { Call: invoke({ End: true }) } }, { MaxConcurrency: 1 }),
      { items: [0] },
      async () => {
        throw named('Broken', 'no luck');
      },
    );
    expect(skeleton(events)).toEqual([
      [1, 0, 'ExecutionStarted'],
      [2, 0, 'MapStateEntered'],
      [3, 2, 'MapStateStarted'],
      [4, 3, 'MapIterationStarted'],
      [5, 4, 'TaskStateEntered'],
      [6, 5, 'TaskScheduled'],
      [7, 6, 'TaskStarted'],
      [8, 7, 'TaskFailed'],
      [9, 8, 'MapIterationFailed'],
      [10, 8, 'MapStateFailed'],
      [11, 10, 'ExecutionFailed'],
    ]);
  });
});

describe("the history of the project's workflow, iterations running side by side", () => {
  const definition = loadDefinition({ AnalyzeFunctionArn: FN });
  const staged = { bucket: 'staging', key: 'staging/history/images' };
  // Four chunks (the third of two images): the Map runs four iterations side by side.
  const input = chunkedInput({ staged, sizes: [100, 100, 100, 100, 100], chunks: [1, 1, 2, 1] });

  /** Slow, quick, crashing and retried chunks at once, so the iterations interleave. */
  const analyze = () => {
    const attempts = new Map<number, number>();
    return async (payload: unknown) => {
      const { Items } = payload as Chunk;
      // Its position in the input, which is the index of its Map iteration.
      const chunk = input.chunks.findIndex((c) => c.Items[0]?.index === Items[0]?.index);
      const attempt = (attempts.get(chunk) ?? 0) + 1;
      attempts.set(chunk, attempt);
      await new Promise((resolve) => setTimeout(resolve, [30, 5, 15, 0][chunk]));
      if (chunk === 2) throw named('RangeError', 'crashed');
      if (chunk === 3 && attempt === 1) throw named('Lambda.TooManyRequestsException', 'busy');
      return Items.map(({ index }) => ({ index, shape: [1, 1] }));
    };
  };

  it('links every event to one before it, inside its own iteration, with time never going back', async () => {
    const events = await run(definition, input, analyze());
    const types = events.map((e) => e.type);
    expect(types[0]).toBe('ExecutionStarted');
    expect(types.at(-1)).toBe('ExecutionSucceeded');
    for (const [i, e] of events.entries()) {
      expect(e.id).toBe(i + 1);
      expect(e.previousEventId).toBeLessThan(e.id);
      if (i > 0)
        expect(e.timestamp.getTime()).toBeGreaterThanOrEqual(
          events[i - 1]?.timestamp.getTime() ?? 0,
        );
    }
    // Each iteration is one chain from its MapIterationStarted to its MapIterationSucceeded.
    // (The failed chunk's records are written by an inner Map, whose iterations are not these.)
    const started = events.filter(
      (e) =>
        e.type === 'MapIterationStarted' &&
        (e.mapIterationStartedEventDetails as { name: string }).name === 'Analyze each chunk',
    );
    expect(started).toHaveLength(4);
    for (const start of started) {
      const { index } = start.mapIterationStartedEventDetails as { index: number };
      const end = events.find(
        (e) =>
          e.type === 'MapIterationSucceeded' &&
          (e.mapIterationSucceededEventDetails as { name: string; index: number }).name ===
            'Analyze each chunk' &&
          (e.mapIterationSucceededEventDetails as { index: number }).index === index,
      );
      const chain: string[] = [];
      for (let e = end; e && e.id !== start.id; e = byId(events, e.previousEventId)) {
        chain.unshift(e.type);
      }
      const expected =
        index === 2
          ? ['TaskStateEntered', 'TaskScheduled', 'TaskStarted', 'TaskFailed', 'TaskStateExited']
          : index === 3
            ? ['TaskStateEntered', 'TaskScheduled', 'TaskStarted', 'TaskFailed']
            : ['TaskStateEntered', 'TaskScheduled', 'TaskStarted', 'TaskSucceeded'];
      expect(chain.slice(0, expected.length)).toEqual(expected);
    }
    // Running side by side, some events are not caused by the one just before them.
    expect(events.some((e) => e.previousEventId !== e.id - 1)).toBe(true);
    // Four chunks analyzed, one retried, then the staged object's deletion.
    expect(types.filter((t) => t === 'TaskScheduled')).toHaveLength(6);
    expect(types).toContain('PassStateEntered');
    // The crashed chunk's two images became two records, and all five are in upload order.
    const output = JSON.parse(
      (events.at(-1)?.executionSucceededEventDetails as { output?: string } | undefined)?.output ??
        'null',
    ) as { results: { index: number; error?: { code: string } }[] };
    expect(output.results.map((r) => [r.index, r.error?.code ?? null])).toEqual([
      [0, null],
      [1, null],
      [2, 'ANALYSIS_FAILED'],
      [3, 'ANALYSIS_FAILED'],
      [4, null],
    ]);
  });

  it('schedules each Task with its own chunk as the Payload', async () => {
    const events = await run(definition, input, analyze());
    const scheduled = events.filter(
      (e) =>
        e.type === 'TaskScheduled' &&
        (e.taskScheduledEventDetails as { resourceType: string }).resourceType === 'lambda',
    );
    expect(scheduled).toHaveLength(5);
    for (const e of scheduled) {
      const details = e.taskScheduledEventDetails as {
        parameters: string;
        timeoutInSeconds: number;
      };
      const parameters = JSON.parse(details.parameters) as { Payload: Chunk };
      expect(details.timeoutInSeconds).toBe(60);
      // Walking back the chain reaches the Task's own TaskStateEntered, with the same chunk.
      let entered = byId(events, e.previousEventId);
      while (entered && entered.type !== 'TaskStateEntered') {
        entered = byId(events, entered.previousEventId);
      }
      const state = entered?.stateEnteredEventDetails as { input: string } | undefined;
      expect(parameters.Payload).toEqual(JSON.parse(state?.input ?? 'null'));
    }
    // Every chunk was scheduled (the fourth twice: it was retried), each whole, with what its
    // images share named once beside them (the Map's ItemSelector).
    const payloads = scheduled.map(
      (e) => JSON.parse((e.taskScheduledEventDetails as { parameters: string }).parameters).Payload,
    );
    const BatchInput = { view: 'shape', object: staged, deadline: null };
    for (const chunk of input.chunks) expect(payloads).toContainEqual({ ...chunk, BatchInput });
  });
});

describe('the history, checked against the AWS API model', () => {
  it("uses only AWS's event types and detail fields, for successes, retries, catches and failures", async () => {
    const definition = loadDefinition({ AnalyzeFunctionArn: FN });
    let calls = 0;
    const flaky = async (payload: unknown) => {
      calls += 1;
      if (calls === 1) throw named('Lambda.TooManyRequestsException', 'busy');
      const { Items } = payload as Chunk;
      if (Items[0]?.index === 1) throw named('RangeError', 'crashed');
      return Items.map(({ index }) => ({ index, shape: [1, 1] }));
    };
    const staged = { bucket: 'staging', key: 'staging/model/images' };
    const events = await run(
      definition,
      chunkedInput({ staged, sizes: [10, 10], chunks: [1, 1] }),
      flaky,
    );
    // A success, a retry and a catch, all recorded: the run itself succeeds.
    const types = events.map((e) => e.type);
    expect(types.at(-1)).toBe('ExecutionSucceeded');
    expect(types).toEqual(expect.arrayContaining(['TaskSucceeded', 'TaskFailed']));
    checkModel(events);
    checkModel(
      await run(
        mapOf({ StartAt: 'Call', States: { Call: invoke({ End: true }) } }),
        { items: [0] },
        async () => {
          throw named('Broken', 'no luck');
        },
      ),
    );
  });
});

describe('the history of a Distributed Map, as the engine reports it', () => {
  // The engine runs a DISTRIBUTED Map as a Task of its own and records the Map Run's events;
  // these are the library events and engine records such a run produces, in their order.
  const definition = {
    StartAt: 'Each',
    States: {
      Each: {
        Type: 'Map',
        ItemReader: { Resource: 'arn:aws:states:::s3:getObject', Parameters: {} },
        ItemProcessor: {
          ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'EXPRESS' },
          StartAt: 'Work',
          States: { Work: { Type: 'Pass', End: true } },
        },
        End: true,
      },
    },
  };
  const mapRunArn = 'arn:aws:states:us-east-1:000000000000:mapRun:Parent/Each:1';
  const replay = (outcome: 'succeeded' | 'failed', reportedAs = 'Task') => {
    const history = new History({ definition });
    const state = { name: 'Each', type: reportedAs, input: { manifest: 'm.jsonl' } };
    const at = Date.now();
    history.addLibraryEvent({ type: 'ExecutionStarted', timestamp: at, input: {} }, 'role');
    history.addLibraryEvent({ type: 'StateEntered', timestamp: at, state }, 'role');
    history.add('MapRunStarted', { mapRunStartedEventDetails: { mapRunArn } });
    if (outcome === 'succeeded') {
      history.add('MapRunSucceeded', {});
      const exited = { ...state, output: { done: true } };
      history.addLibraryEvent({ type: 'StateExited', timestamp: at, state: exited }, 'role');
      history.addLibraryEvent({ type: 'ExecutionSucceeded', timestamp: at, output: {} }, 'role');
    } else {
      const failure = { error: 'States.ItemReaderFailed', cause: 'not JSON' };
      history.add('MapRunFailed', { mapRunFailedEventDetails: failure });
      history.addLibraryEvent(
        { type: 'StateFailed', timestamp: at, state, Error: failure.error, Cause: failure.cause },
        'role',
      );
      history.addLibraryEvent(
        { type: 'ExecutionFailed', timestamp: at, Error: failure.error, Cause: failure.cause },
        'role',
      );
    }
    return history.events;
  };

  it.each(['Task', 'Map'])(
    'records MapStateEntered, MapStateStarted, the Map Run, then MapStateSucceeded and MapStateExited (reported as a %s)',
    (reportedAs) => {
      const events = replay('succeeded', reportedAs);
      expect(skeleton(events)).toEqual([
        [1, 0, 'ExecutionStarted'],
        [2, 0, 'MapStateEntered'],
        [3, 2, 'MapStateStarted'],
        [4, 3, 'MapRunStarted'],
        [5, 4, 'MapRunSucceeded'],
        [6, 5, 'MapStateSucceeded'],
        [7, 5, 'MapStateExited'],
        [8, 7, 'ExecutionSucceeded'],
      ]);
      // With an ItemReader, AWS does not know the length when the Map starts.
      expect(byId(events, 3)).toMatchObject({ mapStateStartedEventDetails: { length: 0 } });
      checkModel(events);
    },
  );

  it.each(['Task', 'Map'])(
    'records a failed Map Run as MapRunFailed, MapStateFailed, ExecutionFailed (reported as a %s)',
    (reportedAs) => {
      const events = replay('failed', reportedAs);
      expect(skeleton(events).slice(3)).toEqual([
        [4, 3, 'MapRunStarted'],
        [5, 4, 'MapRunFailed'],
        [6, 5, 'MapStateFailed'],
        [7, 6, 'ExecutionFailed'],
      ]);
      checkModel(events);
    },
  );
});
