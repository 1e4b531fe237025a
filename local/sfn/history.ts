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
 *
 * This file maps state events to AWS's; the event types and the id/link/timestamp bookkeeping
 * are in history-events.ts, the Map states' iteration chains in history-maps.ts.
 */
import {
  type Definition,
  EventLog,
  type HistoryEvent,
  type JsonValue,
  json,
  type LibraryEvent,
  payload,
  type Scope,
  type StateDefinition,
  statesOf,
  type TaskCall,
  text,
} from './history-events.ts';
import {
  distributedEntered,
  isDistributed,
  iteration,
  type MapScope,
  mapStarted,
  openIterations,
  settleMapFailure,
  simplePath,
} from './history-maps.ts';

/** `arn:aws:states:::lambda:invoke` → resourceType `lambda`, resource `invoke`, as AWS
 * splits an optimized integration's ARN in TaskScheduledEventDetails. */
export const taskResource = (arn = '') => {
  const service = arn.startsWith('arn:aws:states:::') ? arn.slice('arn:aws:states:::'.length) : '';
  const [resourceType = 'lambda', ...action] = service ? service.split(':') : [];
  return { resourceType, resource: action.join(':') || 'invoke' };
};

export interface HistoryOptions {
  /** The region TaskScheduled names (TaskScheduledEventDetails.region). */
  region?: string;
  /** The state machine definition, for Task resources, timeouts and Map ItemsPath. */
  definition?: unknown;
}

/** AWS-shaped events (ids and links kept by EventLog, Map states' by history-maps.ts). */
export class History {
  readonly #log = new EventLog();
  readonly #region: string;
  readonly #states: Map<string, StateDefinition>;
  readonly #root: Scope = { cursor: 0 };
  readonly #maps = new Map<string, MapScope>();
  /** The root-level Map whose iterations are running: iteration events carry only an index. */
  #activeMap: MapScope | undefined;
  /** Invocations by Task state name, in the order the engine made them. */
  readonly #calls = new Map<string, TaskCall[]>();
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
    this.#log.push(type, this.#root, timestamp, () => details);
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
        this.#log.record('ExecutionStarted', 0, at, () => ({
          executionStartedEventDetails: { ...payload('input', event.input), roleArn },
        }));
        return;
      case 'ExecutionSucceeded':
        this.#log.push('ExecutionSucceeded', this.#root, at, () => ({
          executionSucceededEventDetails: payload('output', event.output),
        }));
        return;
      case 'ExecutionFailed':
        for (const map of this.#maps.values()) settleMapFailure(this.#log, this.#root, map, at);
        this.#log.push('ExecutionFailed', this.#root, at, () => ({
          executionFailedEventDetails: { error: event.Error, cause: text(event.Cause) },
        }));
        return;
      case 'ExecutionTimeout':
        this.#log.push('ExecutionTimedOut', this.#root, at, () => ({
          executionTimedOutEventDetails: {},
        }));
        return;
      case 'StateEntered':
        if (state) this.#entered(state, this.#scopeOf(event), at);
        return;
      case 'StateRetried':
        if (state?.type === 'Task' && !isDistributed(this.#states.get(state.name))) {
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
          if (map) settleMapFailure(this.#log, this.#root, map, at);
        }
        return;
      case 'StateExited':
        if (state) this.#exited(state, this.#scopeOf(event), at);
        return;
      case 'MapIterationStarted':
      case 'MapIterationSucceeded':
      case 'MapIterationFailed':
        iteration(this.#log, this.#root, this.#maps, event, at);
        return;
      default:
        // ParallelBranch* have no AWS counterpart; ExecutionAborted is recorded by the engine.
        return;
    }
  }

  get lastType(): string | undefined {
    return this.#log.lastType;
  }

  get events(): HistoryEvent[] {
    return this.#log.events;
  }

  #scopeOf(event: LibraryEvent): Scope {
    if (event.index === undefined) return this.#root;
    return this.#activeMap?.iterations.get(event.index) ?? this.#root;
  }

  #entered(state: NonNullable<LibraryEvent['state']>, scope: Scope, at: number) {
    if (isDistributed(this.#states.get(state.name)))
      return distributedEntered(this.#log, this.#states.get(state.name), state, scope, at);
    this.#log.push(`${state.type}StateEntered`, scope, at, () => ({
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
      if (map.items !== undefined) mapStarted(this.#log, map, scope, at);
    }
  }

  #scheduled(name: string, scope: Scope, at: number) {
    const definition = this.#states.get(name);
    const call = this.#calls.get(name)?.shift();
    if (scope.task) {
      scope.task.call = call;
      scope.task.failed = false;
    }
    const resource = taskResource(definition?.Resource);
    this.#log.push('TaskScheduled', scope, at, () => ({
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
    this.#log.push('TaskStarted', scope, at, () => ({ taskStartedEventDetails: resource }));
  }

  #failed(
    state: NonNullable<LibraryEvent['state']>,
    event: LibraryEvent,
    scope: Scope,
    at: number,
  ) {
    if (scope.task?.distributed && scope.task.name === state.name) {
      scope.task.failed = true;
      this.#log.push('MapStateFailed', scope, at, () => ({}));
      return;
    }
    if (state.type === 'Task') {
      if (scope.task) scope.task.failed = true;
      const resource = taskResource(this.#states.get(state.name)?.Resource);
      const details = { ...resource, error: event.Error, cause: text(event.Cause) };
      if (event.Error === 'States.Timeout') {
        this.#log.push('TaskTimedOut', scope, at, () => ({ taskTimedOutEventDetails: details }));
      } else {
        this.#log.push('TaskFailed', scope, at, () => ({ taskFailedEventDetails: details }));
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
      if (!scope.task.failed) this.#log.record('MapStateSucceeded', scope.cursor, at, () => ({}));
      scope.task = undefined;
      this.#log.push('MapStateExited', scope, at, exited);
      return;
    }
    if (state.type === 'Task') {
      const task = scope.task;
      if (task && !task.failed) {
        const resource = taskResource(this.#states.get(state.name)?.Resource);
        // The integration's whole response (for lambda:invoke: StatusCode, Payload…), before
        // ResultSelector/ResultPath/OutputPath shaped the state's output.
        this.#log.push('TaskSucceeded', scope, at, () => ({
          taskSucceededEventDetails: { ...resource, ...payload('output', task.call?.result) },
        }));
      }
      scope.task = undefined;
      this.#log.push('TaskStateExited', scope, at, exited);
      return;
    }
    if (state.type === 'Map') {
      const map = this.#maps.get(state.name);
      if (map && !map.started) mapStarted(this.#log, map, scope, at);
      if (map && !map.failed) {
        // Both follow the last MapIterationSucceeded (recorded AWS histories).
        this.#log.record('MapStateSucceeded', map.lastEnd, at, () => ({}));
        scope.cursor = map.lastEnd;
      } else if (map) {
        settleMapFailure(this.#log, this.#root, map, at);
      }
      if (this.#activeMap === map) this.#activeMap = undefined;
    }
    this.#log.push(`${state.type}StateExited`, scope, at, exited);
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
    mapStarted(this.#log, map, scope, at);
    this.#root.cursor = scope.cursor;
  }
}
