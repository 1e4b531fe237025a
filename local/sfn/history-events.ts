/**
 * The vocabulary of the execution history (history.ts) and its causal-id bookkeeping: the
 * library's events as they come in, AWS's HistoryEvent as it goes out, the payload helpers
 * both sides share, and the log that gives events their ids, `previousEventId` links and
 * timestamps that never go backwards. Kept apart so that history.ts reads as the mapping of
 * state events alone.
 */
export type JsonValue = unknown;

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

/** The states of a definition, found by name (Map processors and Parallel branches included). */
export interface StateDefinition {
  Type: string;
  Resource?: string;
  TimeoutSeconds?: number;
  HeartbeatSeconds?: number;
  ItemsPath?: string;
  MaxConcurrency?: number;
  ItemReader?: unknown;
  ItemProcessor?: { States: Record<string, StateDefinition>; ProcessorConfig?: { Mode?: string } };
  Iterator?: { States: Record<string, StateDefinition> };
  Branches?: { States: Record<string, StateDefinition> }[];
}
export type Definition = { States: Record<string, StateDefinition> };

export const statesOf = (
  definition: Definition | undefined,
  into = new Map<string, StateDefinition>(),
) => {
  for (const [name, state] of Object.entries(definition?.States ?? {})) {
    into.set(name, state);
    const processor = state.ItemProcessor ?? state.Iterator;
    if (processor) statesOf(processor, into);
    for (const branch of state.Branches ?? []) statesOf(branch, into);
  }
  return into;
};

export const json = (value: JsonValue) => JSON.stringify(value ?? null);
export const text = (value: unknown) => (typeof value === 'string' ? value : json(value));
/** `input`/`output` and their `…Details` (HistoryEventExecutionDataDetails). */
export const payload = (key: 'input' | 'output', value: JsonValue) => ({
  [key]: json(value),
  [`${key}Details`]: { truncated: false },
});

/** A chain of events: the root of the execution or one Map iteration. */
export interface Scope {
  cursor: number;
  /** The Task state open in this scope: its current invocation, and whether it failed. */
  task?: { name: string; call?: TaskCall; failed: boolean; distributed?: boolean };
  done?: boolean;
}

/** One Task invocation as the engine made it: its parameters and, once settled, its result. */
export interface TaskCall {
  parameters: JsonValue;
  result?: JsonValue;
}

export interface Entry {
  type: string;
  timestamp: number;
  previousEventId: number;
  details: () => Record<string, unknown>;
}

/**
 * The events recorded so far. Payloads are serialized when the history is read, not while the
 * workflow runs: most runs are never inspected, and turning every state's input into JSON text
 * would cost more than the run.
 */
export class EventLog {
  readonly #entries: Entry[] = [];
  readonly #materialized: HistoryEvent[] = [];
  #lastTimestamp = 0;

  get lastType(): string | undefined {
    return this.#entries.at(-1)?.type;
  }

  get events(): HistoryEvent[] {
    for (let i = this.#materialized.length; i < this.#entries.length; i++) {
      const entry = this.#entries[i] as Entry;
      this.#materialized.push({
        timestamp: new Date(entry.timestamp),
        type: entry.type,
        id: i + 1,
        previousEventId: entry.previousEventId,
        ...entry.details(),
      });
    }
    return this.#materialized;
  }

  record(type: string, previousEventId: number, at: number, details: Entry['details']) {
    // The library stamps a finished iteration with its sub-execution's time, which can be
    // earlier than events already logged: AWS's timestamps never go backwards.
    const timestamp = Math.max(at, this.#lastTimestamp);
    this.#lastTimestamp = timestamp;
    this.#entries.push({ type, timestamp, previousEventId, details });
    return this.#entries.length;
  }

  /** Records an event caused by the scope's latest one, and makes it the latest. */
  push(type: string, scope: Scope, at: number, details: Entry['details']) {
    scope.cursor = this.record(type, scope.cursor, at, details);
    return scope.cursor;
  }
}
