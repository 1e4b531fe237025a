/**
 * The execution history GetExecutionHistory returns, written as AWS writes it.
 *
 * aws-local-stepfunctions reports what happens as its own event log (StateEntered, StateFailed,
 * MapIterationStarted…); this turns it into AWS HistoryEvents: the same types, the same
 * `…EventDetails` fields, ids from 1, `previousEventId` pointing at the event that caused this
 * one, and timestamps that never go backwards.
 *
 * Shapes: https://docs.aws.amazon.com/step-functions/latest/apireference/API_HistoryEvent.html
 * and its detail types (API_StateEnteredEventDetails, API_TaskScheduledEventDetails,
 * API_TaskSucceededEventDetails, API_MapStateStartedEventDetails, API_MapIterationEventDetails,
 * API_MapRunStartedEventDetails…). The order and `previousEventId` links follow AWS's published
 * example (https://docs.aws.amazon.com/step-functions/latest/dg/sfn-local-test-sm-exec.html:
 * ExecutionStarted id 1 and the first TaskStateEntered id 2 both have previousEventId 0) and
 * histories recorded from AWS: the lambda:invoke Task is TaskStateEntered → TaskScheduled →
 * TaskStarted → TaskSucceeded|TaskFailed → (retry: TaskScheduled again) → TaskStateExited (also
 * after a Catch, with the error output); an inline Map is MapStateEntered → MapStateStarted
 * {length} → per item MapIterationStarted {name, index} … MapIterationSucceeded|Failed →
 * MapStateSucceeded|MapStateFailed → MapStateExited. Iterations chain inside themselves, so
 * with MaxConcurrency > 1 `previousEventId` is often not `id - 1`.
 *
 * Not reproduced: Parallel state events beyond Entered/Exited, MapIterationAborted and
 * TaskStateAborted for iterations cut short by a sibling's failure, and nested Maps' inner
 * iteration chains (the library reports their events under the outer iteration's index).
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

/** The states of a definition, found by name (Map processors and Parallel branches included). */
interface StateDefinition {
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
type Definition = { States: Record<string, StateDefinition> };

const statesOf = (
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

const json = (value: JsonValue) => JSON.stringify(value ?? null);
const text = (value: unknown) => (typeof value === 'string' ? value : json(value));
/** `input`/`output` and their `…Details` (HistoryEventExecutionDataDetails). */
const payload = (key: 'input' | 'output', value: JsonValue) => ({
  [key]: json(value),
  [`${key}Details`]: { truncated: false },
});

/** `arn:aws:states:::lambda:invoke` → resourceType `lambda`, resource `invoke`, as AWS
 * splits an optimized integration's ARN in TaskScheduledEventDetails. */
export const taskResource = (arn = '') => {
  const service = arn.startsWith('arn:aws:states:::') ? arn.slice('arn:aws:states:::'.length) : '';
  const [resourceType = 'lambda', ...action] = service ? service.split(':') : [];
  return { resourceType, resource: action.join(':') || 'invoke' };
};

/** `$`, `$.a.b`: enough to count a Map's items the moment it starts; anything else waits for
 * the iterations to be counted. */
const simplePath = (path: string | undefined, value: JsonValue): JsonValue => {
  if (path === undefined || path === '$') return value;
  if (!/^\$(\.[A-Za-z_][\w-]*)+$/.test(path)) return undefined;
  let current = value;
  for (const key of path.slice(2).split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, JsonValue>)[key];
  }
  return current;
};

/** One Task invocation as the engine made it: its parameters and, once settled, its result. */
interface TaskCall {
  parameters: JsonValue;
  result?: JsonValue;
}

/** A chain of events: the root of the execution or one Map iteration. */
interface Scope {
  cursor: number;
  /** The Task state open in this scope: its current invocation, and whether it failed. */
  task?: { name: string; call?: TaskCall; failed: boolean; distributed?: boolean };
  done?: boolean;
}

interface MapScope {
  name: string;
  /** The id AWS links the next iteration (and a failure) to: the last finished chain. */
  cursor: number;
  /** The latest MapIterationSucceeded, which MapStateSucceeded and MapStateExited follow. */
  lastEnd: number;
  started: boolean;
  failed: boolean;
  failurePending: boolean;
  items?: number;
  iterations: Map<number, Scope>;
}

const openIterations = (map: MapScope) => {
  let open = 0;
  for (const iteration of map.iterations.values()) if (!iteration.done) open += 1;
  return open;
};

interface Entry {
  type: string;
  timestamp: number;
  previousEventId: number;
  details: () => Record<string, unknown>;
}

export interface HistoryOptions {
  /** The region TaskScheduled names (TaskScheduledEventDetails.region). */
  region?: string;
  /** The state machine definition, for Task resources, timeouts and Map ItemsPath. */
  definition?: unknown;
}

/**
 * AWS-shaped events. Payloads are serialized when the history is read, not while the workflow
 * runs: most runs are never inspected, and turning every state's input into JSON text would
 * cost more than the run.
 */
export class History {
  readonly #entries: Entry[] = [];
  readonly #materialized: HistoryEvent[] = [];
  readonly #region: string;
  readonly #states: Map<string, StateDefinition>;
  readonly #root: Scope = { cursor: 0 };
  readonly #maps = new Map<string, MapScope>();
  /** The root-level Map whose iterations are running: iteration events carry only an index. */
  #activeMap: MapScope | undefined;
  /** Invocations by Task state name, in the order the engine made them. */
  readonly #calls = new Map<string, TaskCall[]>();
  #lastTimestamp = 0;
  #roleArn = '';
  /** Library events that arrived before their cause (see #mustWait). */
  #deferred: LibraryEvent[] = [];

  constructor(options: HistoryOptions = {}) {
    this.#region = options.region ?? 'us-east-1';
    this.#states = statesOf(options.definition as Definition | undefined);
  }

  /** An event of the execution itself (ends, stops, limits), chained at the root. */
  add(type: string, details: Record<string, unknown>, timestamp = Date.now()): void {
    for (const waiting of this.#deferred.splice(0)) this.#apply(waiting);
    this.#push(type, this.#root, timestamp, () => details);
  }

  /**
   * The engine reports each Task invocation as it makes it (parameters, then the result),
   * because the library's log carries neither. The library calls a Task's handler in the same
   * tick as it logs the state's StateEntered (or StateRetried), so invocations of one state are
   * matched to those events in order.
   */
  taskInvoked(stateName: string, parameters: JsonValue, result: Promise<unknown>): void {
    const call: TaskCall = { parameters };
    result.then(
      (value) => {
        call.result = value;
      },
      () => undefined,
    );
    const queue = this.#calls.get(stateName) ?? [];
    queue.push(call);
    this.#calls.set(stateName, queue);
  }

  addLibraryEvent(event: LibraryEvent, roleArn: string): void {
    this.#roleArn = roleArn;
    if (event.type.startsWith('Execution')) {
      // Nothing is left waiting past the end of the run.
      for (const waiting of this.#deferred.splice(0)) this.#apply(waiting);
    } else if (this.#mustWait(event)) {
      this.#deferred.push(event);
      return;
    }
    this.#apply(event);
    if (this.#deferred.length > 0 && event.type.startsWith('MapIteration')) this.#flush();
  }

  /**
   * The library forwards each iteration's events through its own queue, so it can log the
   * next iteration's start, or the Map's exit, before the iteration that made room for it has
   * logged its end. Such events wait for their cause, and so does everything after them in
   * the same chain; other iterations' events go on.
   */
  #mustWait(event: LibraryEvent): boolean {
    const chain = event.index;
    if (this.#deferred.some((waiting) => waiting.index === chain)) return true;
    if (event.type === 'MapIterationStarted') {
      const map = this.#maps.get(event.parentState?.name ?? '');
      const limit = this.#states.get(map?.name ?? '')?.MaxConcurrency ?? 0;
      return !!map && limit > 0 && openIterations(map) >= limit;
    }
    if (event.type === 'StateExited' && event.state?.type === 'Map') {
      const map = this.#maps.get(event.state.name);
      return !!map && !map.failed && openIterations(map) > 0;
    }
    return false;
  }

  #flush() {
    const waiting = this.#deferred.splice(0);
    let progressed = false;
    for (const event of waiting) {
      if (this.#mustWait(event)) {
        this.#deferred.push(event);
      } else {
        this.#apply(event);
        progressed = true;
      }
    }
    if (progressed && this.#deferred.length > 0) this.#flush();
  }

  #apply(event: LibraryEvent): void {
    const roleArn = this.#roleArn;
    const at = event.timestamp;
    const state = event.state;
    switch (event.type) {
      case 'ExecutionStarted':
        // previousEventId 0, and the first state links to 0 too (AWS's example above).
        this.#record('ExecutionStarted', 0, at, () => ({
          executionStartedEventDetails: { ...payload('input', event.input), roleArn },
        }));
        return;
      case 'ExecutionSucceeded':
        this.#push('ExecutionSucceeded', this.#root, at, () => ({
          executionSucceededEventDetails: payload('output', event.output),
        }));
        return;
      case 'ExecutionFailed':
        for (const map of this.#maps.values()) this.#settleMapFailure(map, at);
        this.#push('ExecutionFailed', this.#root, at, () => ({
          executionFailedEventDetails: { error: event.Error, cause: text(event.Cause) },
        }));
        return;
      case 'ExecutionTimeout':
        this.#push('ExecutionTimedOut', this.#root, at, () => ({
          executionTimedOutEventDetails: {},
        }));
        return;
      case 'StateEntered':
        if (state) this.#entered(state, this.#scopeOf(event), at);
        return;
      case 'StateRetried':
        if (state?.type === 'Task' && !this.#isDistributed(state)) {
          this.#scheduled(state.name, this.#scopeOf(event), at);
        }
        if (state?.type === 'Map') this.#mapRetried(state.name, at);
        return;
      case 'StateFailed':
        if (state) this.#failed(state, event, this.#scopeOf(event), at);
        return;
      case 'StateCaught':
        if (state?.type === 'Map') {
          const map = this.#maps.get(state.name);
          if (map) this.#settleMapFailure(map, at);
        }
        return;
      case 'StateExited':
        if (state) this.#exited(state, this.#scopeOf(event), at);
        return;
      case 'MapIterationStarted':
      case 'MapIterationSucceeded':
      case 'MapIterationFailed':
        this.#iteration(event, at);
        return;
      default:
        // ParallelBranch* have no AWS counterpart; ExecutionAborted is recorded by the engine.
        return;
    }
  }

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

  #scopeOf(event: LibraryEvent): Scope {
    if (event.index === undefined) return this.#root;
    return this.#activeMap?.iterations.get(event.index) ?? this.#root;
  }

  #record(type: string, previousEventId: number, at: number, details: Entry['details']) {
    // The library stamps a finished iteration with its sub-execution's time, which can be
    // earlier than events already logged: AWS's timestamps never go backwards.
    const timestamp = Math.max(at, this.#lastTimestamp);
    this.#lastTimestamp = timestamp;
    this.#entries.push({ type, timestamp, previousEventId, details });
    return this.#entries.length;
  }

  /** Records an event caused by the scope's latest one, and makes it the latest. */
  #push(type: string, scope: Scope, at: number, details: Entry['details']) {
    scope.cursor = this.#record(type, scope.cursor, at, details);
    return scope.cursor;
  }

  #entered(state: NonNullable<LibraryEvent['state']>, scope: Scope, at: number) {
    if (this.#isDistributed(state)) return this.#distributedEntered(state, scope, at);
    this.#push(`${state.type}StateEntered`, scope, at, () => ({
      stateEnteredEventDetails: { name: state.name, ...payload('input', state.input) },
    }));
    if (state.type === 'Task') {
      scope.task = { name: state.name, failed: false };
      this.#scheduled(state.name, scope, at);
    }
    if (state.type === 'Map') {
      const definition = this.#states.get(state.name);
      const items = simplePath(definition?.ItemsPath, state.input);
      const map: MapScope = {
        name: state.name,
        cursor: 0,
        lastEnd: 0,
        started: false,
        failed: false,
        failurePending: false,
        items: Array.isArray(items) ? items.length : undefined,
        iterations: new Map(),
      };
      this.#maps.set(state.name, map);
      if (scope === this.#root) this.#activeMap = map;
      if (map.items !== undefined) this.#mapStarted(map, scope, at);
    }
  }

  /**
   * The engine runs a DISTRIBUTED Map as a Task of its own (the library has no such Map), and
   * records MapRunStarted/Succeeded/Failed itself with add(); AWS's recorded histories go
   * MapStateEntered → MapStateStarted {length, 0 with an ItemReader} → MapRunStarted →
   * MapRunSucceeded → MapStateSucceeded and MapStateExited (both after MapRunSucceeded), or
   * MapRunFailed → MapStateFailed.
   */
  #isDistributed(state: NonNullable<LibraryEvent['state']>) {
    const definition = this.#states.get(state.name);
    // The engine renames the library's Task events of a DISTRIBUTED Map to 'Map' (engine.ts,
    // drainHistory): either name is this state.
    return (
      (state.type === 'Task' || state.type === 'Map') &&
      definition?.Type === 'Map' &&
      definition.ItemProcessor?.ProcessorConfig?.Mode === 'DISTRIBUTED'
    );
  }

  #distributedEntered(state: NonNullable<LibraryEvent['state']>, scope: Scope, at: number) {
    const definition = this.#states.get(state.name);
    this.#push('MapStateEntered', scope, at, () => ({
      stateEnteredEventDetails: { name: state.name, ...payload('input', state.input) },
    }));
    const items = definition?.ItemReader ? [] : simplePath(definition?.ItemsPath, state.input);
    this.#push('MapStateStarted', scope, at, () => ({
      mapStateStartedEventDetails: { length: Array.isArray(items) ? items.length : 0 },
    }));
    scope.task = { name: state.name, failed: false, distributed: true };
  }

  #scheduled(name: string, scope: Scope, at: number) {
    const definition = this.#states.get(name);
    const call = this.#calls.get(name)?.shift();
    if (scope.task) {
      scope.task.call = call;
      scope.task.failed = false;
    }
    const resource = taskResource(definition?.Resource);
    this.#push('TaskScheduled', scope, at, () => ({
      taskScheduledEventDetails: {
        ...resource,
        region: this.#region,
        parameters: json(call?.parameters),
        ...(definition?.TimeoutSeconds ? { timeoutInSeconds: definition.TimeoutSeconds } : {}),
        ...(definition?.HeartbeatSeconds
          ? { heartbeatInSeconds: definition.HeartbeatSeconds }
          : {}),
      },
    }));
    this.#push('TaskStarted', scope, at, () => ({ taskStartedEventDetails: resource }));
  }

  #failed(
    state: NonNullable<LibraryEvent['state']>,
    event: LibraryEvent,
    scope: Scope,
    at: number,
  ) {
    if (scope.task?.distributed && scope.task.name === state.name) {
      scope.task.failed = true;
      this.#push('MapStateFailed', scope, at, () => ({}));
      return;
    }
    if (state.type === 'Task') {
      if (scope.task) scope.task.failed = true;
      const resource = taskResource(this.#states.get(state.name)?.Resource);
      const details = { ...resource, error: event.Error, cause: text(event.Cause) };
      if (event.Error === 'States.Timeout') {
        this.#push('TaskTimedOut', scope, at, () => ({ taskTimedOutEventDetails: details }));
      } else {
        this.#push('TaskFailed', scope, at, () => ({ taskFailedEventDetails: details }));
      }
    }
    if (state.type === 'Map') {
      // Recorded once the engine says what follows: a Retry starts the Map again instead.
      const map = this.#maps.get(state.name);
      if (map) {
        map.failed = true;
        map.failurePending = true;
      }
    }
  }

  #exited(state: NonNullable<LibraryEvent['state']>, scope: Scope, at: number) {
    const exited = () => ({
      stateExitedEventDetails: { name: state.name, ...payload('output', state.output) },
    });
    if (scope.task?.distributed && scope.task.name === state.name) {
      if (!scope.task.failed) this.#record('MapStateSucceeded', scope.cursor, at, () => ({}));
      scope.task = undefined;
      this.#push('MapStateExited', scope, at, exited);
      return;
    }
    if (state.type === 'Task') {
      const task = scope.task;
      if (task && !task.failed) {
        const resource = taskResource(this.#states.get(state.name)?.Resource);
        // The integration's whole response (for lambda:invoke: StatusCode, Payload…), before
        // ResultSelector/ResultPath/OutputPath shaped the state's output.
        this.#push('TaskSucceeded', scope, at, () => ({
          taskSucceededEventDetails: { ...resource, ...payload('output', task.call?.result) },
        }));
      }
      scope.task = undefined;
      this.#push('TaskStateExited', scope, at, exited);
      return;
    }
    if (state.type === 'Map') {
      const map = this.#maps.get(state.name);
      if (map && !map.started) this.#mapStarted(map, scope, at);
      if (map && !map.failed) {
        // Both follow the last MapIterationSucceeded (recorded AWS histories).
        this.#record('MapStateSucceeded', map.lastEnd, at, () => ({}));
        scope.cursor = map.lastEnd;
      } else if (map) {
        this.#settleMapFailure(map, at);
      }
      if (this.#activeMap === map) this.#activeMap = undefined;
    }
    this.#push(`${state.type}StateExited`, scope, at, exited);
  }

  #mapStarted(map: MapScope, scope: Scope, at: number) {
    map.started = true;
    map.cursor = this.#push('MapStateStarted', scope, at, () => ({
      mapStateStartedEventDetails: { length: map.items ?? map.iterations.size },
    }));
    map.lastEnd = map.cursor;
  }

  #mapRetried(name: string, at: number) {
    const map = this.#maps.get(name);
    if (!map) return;
    map.failed = false;
    map.failurePending = false;
    map.iterations.clear();
    map.started = false;
    this.#activeMap = map;
    // A retried Map starts again where its failed iteration ended.
    const scope: Scope = { cursor: map.cursor };
    this.#mapStarted(map, scope, at);
    this.#root.cursor = scope.cursor;
  }

  #settleMapFailure(map: MapScope, at: number) {
    if (!map.failurePending) return;
    map.failurePending = false;
    // MapStateFailed follows the failed iteration's last event, not MapIterationFailed.
    this.#root.cursor = this.#record('MapStateFailed', map.cursor, at, () => ({}));
  }

  #iteration(event: LibraryEvent, at: number) {
    const name = event.parentState?.name ?? '';
    const index = event.index ?? 0;
    const map = this.#maps.get(name);
    if (!map) return;
    const key = `${event.type[0]?.toLowerCase()}${event.type.slice(1)}EventDetails`;
    const details = () => ({ [key]: { name, index } });
    if (event.type === 'MapIterationStarted') {
      if (!map.started) this.#mapStarted(map, this.#root, at);
      const id = this.#record(event.type, map.cursor, at, details);
      map.iterations.set(index, { cursor: id });
      return;
    }
    const iteration = map.iterations.get(index);
    if (!iteration) return;
    iteration.done = true;
    const id = this.#record(event.type, iteration.cursor, at, details);
    // The next iteration to start, or the Map's end, follows this chain's last event.
    map.cursor = iteration.cursor;
    if (event.type === 'MapIterationSucceeded') map.lastEnd = id;
  }
}
