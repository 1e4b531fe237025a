/**
 * One execution's run: aws-local-stepfunctions runs the definition, and this adds what the
 * cloud does around it — the 256 KiB payload limit (States.DataLimitExceeded), Express's five
 * minutes, stop requests, DISTRIBUTED Map states as handlers that start Map Runs — and writes
 * the history as AWS would. Split from engine.ts, which holds the API's rules and the registry
 * of machines, executions and Map Runs.
 */
import {
  ExecutionAbortedError,
  ExecutionError,
  ExecutionTimeoutError,
  type StateMachineDefinition,
} from 'aws-local-stepfunctions';
import type { MapRunHost } from './distributed-map.ts';
import type { Execution, ExecutionStatus, Machine, TaskInvoker } from './execution.ts';
import { History } from './history.ts';
import type { LibraryEvent } from './history-events.ts';

export const bytes = (text: string) => Buffer.byteLength(text, 'utf8');

/** What a run needs from the service that starts it. */
export interface RunEnvironment {
  region: string;
  invokeTask: TaskInvoker;
  payloadLimitBytes: number;
  expressMaxMs: number;
  /** What a DISTRIBUTED Map state of this execution needs to run its Map Run. */
  mapRunHost: (
    label: string,
    child: Machine,
    parent: { executionArn: string; context: Record<string, unknown>; input: unknown },
    history: History,
    onStop: (abort: () => void) => void,
  ) => MapRunHost;
}

export const runExecution = (
  env: RunEnvironment,
  machine: Machine,
  executionArn: string,
  name: string,
  input: string,
  parsed: unknown,
): Execution => {
  const history = new History({
    region: env.region,
    definition: JSON.parse(machine.definition),
  });
  let pendingFailure: { error: string; cause: string } | undefined;
  let stopRequest: { error?: string; cause?: string } | undefined;
  let expressTimedOut = false;

  const overLimit = (what: string, value: unknown) => {
    if (pendingFailure || bytes(JSON.stringify(value ?? null)) <= env.payloadLimitBytes)
      return false;
    // Like AWS, States.DataLimitExceeded fails the execution: no Catch, not even States.ALL.
    pendingFailure = {
      error: 'States.DataLimitExceeded',
      cause: `The state/task '${what}' returned a result with a size exceeding the maximum number of bytes service limit.`,
    };
    run.abort();
    return true;
  };

  const taskHandlers = Object.fromEntries(
    [...machine.tasks].map(([stateName, resource]) => [
      stateName,
      async (taskInput: unknown) => {
        const pending = env.invokeTask(resource, taskInput);
        history.taskInvoked(stateName, taskInput, pending);
        const result = await pending;
        if (overLimit(stateName, result)) throw new Error('States.DataLimitExceeded');
        return result as never;
      },
    ]),
  );

  const context = {
    Execution: { Id: executionArn, Name: name, RoleArn: machine.roleArn },
    StateMachine: { Id: machine.arn, Name: machine.name },
  };
  // Map Runs of this execution, stopped with it.
  const mapRunStops: (() => void)[] = [];
  for (const [stateName, { map, label, child }] of machine.distributed) {
    const host = env.mapRunHost(
      label,
      child,
      { executionArn, context, input: parsed },
      history,
      (abort) => mapRunStops.push(abort),
    );
    taskHandlers[stateName] = async (mapInput: unknown) => {
      // The library logs MapStateEntered before calling the handler; one turn of the event
      // loop lets the history take it in first, so MapRunStarted follows it.
      await new Promise((resolve) => setImmediate(resolve));
      const result = await map.run(mapInput, host);
      if (overLimit(stateName, result)) throw new Error('States.DataLimitExceeded');
      return result as never;
    };
  }

  const startDate = new Date();
  const run = machine.runner.run(parsed as never, {
    overrides: { taskResourceLocalHandlers: taskHandlers },
    context,
  });
  const expressTimer =
    machine.type === 'EXPRESS'
      ? setTimeout(() => {
          expressTimedOut = true;
          run.abort();
        }, env.expressMaxMs)
      : undefined;

  const execution: Execution = {
    executionArn,
    stateMachineArn: machine.arn,
    name,
    type: machine.type,
    status: 'RUNNING',
    input,
    startDate,
    history,
    settled: Promise.resolve(),
    stop: (error, cause) => {
      if (execution.status !== 'RUNNING') return;
      stopRequest = { error, cause };
      run.abort();
    },
  };

  const drainHistory = (async () => {
    for await (const event of run.eventLogs as AsyncGenerator<LibraryEvent>) {
      if (event.type === 'ExecutionAborted') continue; // recorded below with the real reason
      // A DISTRIBUTED Map runs as a Task in the library; its events are a Map's.
      if (event.state?.type === 'Task' && machine.distributed.has(event.state.name)) {
        event.state.type = 'Map';
      }
      history.addLibraryEvent(event, machine.roleArn);
      // A state's input is the previous state's output (or the checked execution input, or a
      // Map item, smaller than its array), so checking outputs covers inputs too.
      if (event.type === 'StateExited') overLimit(event.state?.name ?? '', event.state?.output);
    }
  })();

  const finish = async () => {
    let outcome: Partial<Execution> & { status: ExecutionStatus };
    try {
      const output = JSON.stringify((await run.result) ?? null);
      outcome = { status: 'SUCCEEDED', output };
    } catch (error) {
      outcome = outcomeOf(error);
    }
    clearTimeout(expressTimer);
    await drainHistory.catch(() => undefined);
    for (const stop of mapRunStops) stop();
    if (pendingFailure) outcome = { status: 'FAILED', ...pendingFailure };
    else if (expressTimedOut) outcome = { status: 'TIMED_OUT' };
    else if (stopRequest)
      outcome = { status: 'ABORTED', error: stopRequest.error, cause: stopRequest.cause };
    Object.assign(execution, outcome, { stopDate: new Date() });
    recordEnd(history, execution);
  };
  execution.settled = finish();
  return execution;
};

const outcomeOf = (error: unknown): Partial<Execution> & { status: ExecutionStatus } => {
  if (error instanceof ExecutionTimeoutError)
    return { status: 'TIMED_OUT', error: 'States.Timeout' };
  if (error instanceof ExecutionAbortedError) return { status: 'ABORTED' };
  if (error instanceof ExecutionError && error.cause instanceof Error) {
    return { status: 'FAILED', error: error.cause.name, cause: error.cause.message };
  }
  return { status: 'FAILED', error: 'States.Runtime', cause: String(error) };
};

/** The closing event of a run the library did not log itself (stops, limits, Express cap). */
const recordEnd = (history: History, execution: Execution) => {
  const last = history.lastType;
  if (execution.status === 'ABORTED') {
    history.add('ExecutionAborted', {
      executionAbortedEventDetails: { error: execution.error, cause: execution.cause },
    });
  } else if (execution.status === 'TIMED_OUT' && last !== 'ExecutionTimedOut') {
    history.add('ExecutionTimedOut', { executionTimedOutEventDetails: {} });
  } else if (execution.status === 'FAILED' && last !== 'ExecutionFailed') {
    history.add('ExecutionFailed', {
      executionFailedEventDetails: { error: execution.error, cause: execution.cause },
    });
  }
};

/** Task state names (Map item processors and Parallel branches included) → Resource. */
export const taskStates = (
  definition: StateMachineDefinition,
  into = new Map<string, string>(),
) => {
  for (const [name, state] of Object.entries(definition.States)) {
    if (state.Type === 'Task') {
      const known = into.get(name);
      if (known && known !== state.Resource) {
        throw new Error(`Two Task states named '${name}' call different resources; rename one`);
      }
      into.set(name, state.Resource);
    }
    if (state.Type === 'Map') {
      const processor = state.ItemProcessor ?? state.Iterator;
      if (processor) taskStates(processor as StateMachineDefinition, into);
    }
    if (state.Type === 'Parallel') {
      for (const branch of state.Branches) taskStates(branch as StateMachineDefinition, into);
    }
  }
  return into;
};
