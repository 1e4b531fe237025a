/**
 * aws-local-stepfunctions reports what happens as its own event log; this turns each entry
 * into the HistoryEvent that GetExecutionHistory returns in AWS (same type names, same
 * details keys), so the AWS CLI and SDK read local runs the way they read cloud ones.
 */
type JsonValue = unknown;

export interface LibraryEvent {
  type: string;
  timestamp: number;
  input?: JsonValue;
  output?: JsonValue;
  Error?: string;
  Cause?: unknown;
  index?: number;
  state?: { name: string; type: string; input: JsonValue; output?: JsonValue };
  parentState?: { name: string; type: string };
}

export interface HistoryEvent {
  timestamp: Date;
  type: string;
  id: number;
  previousEventId: number;
  [details: string]: unknown;
}

const json = (value: JsonValue) => JSON.stringify(value ?? null);
const cause = (value: unknown) => (typeof value === 'string' ? value : json(value));
const payload = (key: 'input' | 'output', value: JsonValue) => ({
  [key]: json(value),
  [`${key}Details`]: { truncated: false },
});

/** The AWS type of one library event and, built only when asked, its details; undefined when
 * AWS has no such event. */
export const toAwsEvent = (
  event: LibraryEvent,
  roleArn: string,
): { type: string; details: () => Record<string, unknown> } | undefined => {
  const state = event.state;
  switch (event.type) {
    case 'ExecutionStarted':
      return {
        type: 'ExecutionStarted',
        details: () => ({
          executionStartedEventDetails: { ...payload('input', event.input), roleArn },
        }),
      };
    case 'ExecutionSucceeded':
      return {
        type: 'ExecutionSucceeded',
        details: () => ({ executionSucceededEventDetails: payload('output', event.output) }),
      };
    case 'ExecutionFailed':
      return {
        type: 'ExecutionFailed',
        details: () => ({
          executionFailedEventDetails: { error: event.Error, cause: cause(event.Cause) },
        }),
      };
    case 'ExecutionAborted':
      return { type: 'ExecutionAborted', details: () => ({ executionAbortedEventDetails: {} }) };
    case 'ExecutionTimeout':
      return { type: 'ExecutionTimedOut', details: () => ({ executionTimedOutEventDetails: {} }) };
    case 'StateEntered':
      if (!state) return undefined;
      return {
        type: `${state.type}StateEntered`,
        details: () => ({
          stateEnteredEventDetails: { name: state.name, ...payload('input', state.input) },
        }),
      };
    case 'StateExited':
      if (!state) return undefined;
      return {
        type: `${state.type}StateExited`,
        details: () => ({
          stateExitedEventDetails: { name: state.name, ...payload('output', state.output) },
        }),
      };
    case 'StateFailed':
      if (state?.type === 'Task') {
        return {
          type: 'TaskFailed',
          details: () => ({
            taskFailedEventDetails: {
              resourceType: 'lambda',
              resource: 'invoke',
              error: event.Error,
              cause: cause(event.Cause),
            },
          }),
        };
      }
      if (state?.type === 'Map') return { type: 'MapStateFailed', details: () => ({}) };
      return undefined;
    case 'MapIterationStarted':
    case 'MapIterationSucceeded':
    case 'MapIterationFailed': {
      const key = `${event.type[0]?.toLowerCase()}${event.type.slice(1)}EventDetails`;
      return {
        type: event.type,
        details: () => ({ [key]: { name: event.parentState?.name, index: event.index } }),
      };
    }
    default:
      // StateRetried, StateCaught and Parallel branch events have no AWS counterpart.
      return undefined;
  }
};

interface Entry {
  type: string;
  timestamp: number;
  details: () => Record<string, unknown>;
}

/**
 * AWS-shaped events with AWS's numbering (ids from 1, each linked to the previous). Payloads
 * are serialised when the history is read, not while the workflow runs: most runs are never
 * inspected, and turning every state's input into JSON text would cost more than the run.
 */
export class History {
  readonly #entries: Entry[] = [];
  readonly #materialised: HistoryEvent[] = [];

  add(type: string, details: Record<string, unknown>, timestamp = Date.now()): void {
    this.#entries.push({ type, timestamp, details: () => details });
  }

  addLibraryEvent(event: LibraryEvent, roleArn: string): void {
    // The library hands out fresh objects per event, so holding them until read is safe.
    const aws = toAwsEvent(event, roleArn);
    if (aws) this.#entries.push({ ...aws, timestamp: event.timestamp });
  }

  get lastType(): string | undefined {
    return this.#entries.at(-1)?.type;
  }

  get events(): HistoryEvent[] {
    for (let i = this.#materialised.length; i < this.#entries.length; i++) {
      const entry = this.#entries[i] as Entry;
      this.#materialised.push({
        timestamp: new Date(entry.timestamp),
        type: entry.type,
        id: i + 1,
        previousEventId: i,
        ...entry.details(),
      });
    }
    return this.#materialised;
  }
}
