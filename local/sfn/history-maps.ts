/**
 * The Map states' side of the execution history (history.ts): an inline Map's iterations, each
 * a chain of its own, and how their ends link to what follows (MapStateStarted,
 * MapIterationStarted…Succeeded|Failed, MapStateSucceeded|Failed after the right event), and a
 * DISTRIBUTED Map's entry. Split from history.ts so that each reads in one sitting.
 */
import type {
  EventLog,
  JsonValue,
  LibraryEvent,
  Scope,
  StateDefinition,
} from './history-events.ts';
import { payload } from './history-events.ts';

/** `$`, `$.a.b`: enough to count a Map's items the moment it starts; anything else waits for
 * the iterations to be counted. */
export const simplePath = (path: string | undefined, value: JsonValue): JsonValue => {
  if (path === undefined || path === '$') return value;
  if (!/^\$(\.[A-Za-z_][\w-]*)+$/.test(path)) return undefined;
  let current = value;
  for (const key of path.slice(2).split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, JsonValue>)[key];
  }
  return current;
};

export interface MapScope {
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

export const openIterations = (map: MapScope) => {
  let open = 0;
  for (const iteration of map.iterations.values()) if (!iteration.done) open += 1;
  return open;
};

export const mapStarted = (log: EventLog, map: MapScope, scope: Scope, at: number) => {
  map.started = true;
  map.cursor = log.push('MapStateStarted', scope, at, () => ({
    mapStateStartedEventDetails: { length: map.items ?? map.iterations.size },
  }));
  map.lastEnd = map.cursor;
};

/** Records the pending MapStateFailed, at the root. */
export const settleMapFailure = (log: EventLog, root: Scope, map: MapScope, at: number) => {
  if (!map.failurePending) return;
  map.failurePending = false;
  // MapStateFailed follows the failed iteration's last event, not MapIterationFailed.
  root.cursor = log.record('MapStateFailed', map.cursor, at, () => ({}));
};

export const iteration = (
  log: EventLog,
  root: Scope,
  maps: Map<string, MapScope>,
  event: LibraryEvent,
  at: number,
) => {
  const name = event.parentState?.name ?? '';
  const index = event.index ?? 0;
  const map = maps.get(name);
  if (!map) return;
  const key = `${event.type[0]?.toLowerCase()}${event.type.slice(1)}EventDetails`;
  const details = () => ({ [key]: { name, index } });
  if (event.type === 'MapIterationStarted') {
    if (!map.started) mapStarted(log, map, root, at);
    const id = log.record(event.type, map.cursor, at, details);
    map.iterations.set(index, { cursor: id });
    return;
  }
  const iteration = map.iterations.get(index);
  if (!iteration) return;
  iteration.done = true;
  const id = log.record(event.type, iteration.cursor, at, details);
  // The next iteration to start, or the Map's end, follows this chain's last event.
  map.cursor = iteration.cursor;
  if (event.type === 'MapIterationSucceeded') map.lastEnd = id;
};

/**
 * The engine runs a DISTRIBUTED Map as a Task of its own (the library has no such Map; the
 * engine may report it as a Task or as a Map), and records MapRunStarted/Succeeded/Failed
 * itself with add(); AWS's recorded histories go
 * MapStateEntered → MapStateStarted {length, 0 with an ItemReader} → MapRunStarted →
 * MapRunSucceeded → MapStateSucceeded and MapStateExited (both after MapRunSucceeded), or
 * MapRunFailed → MapStateFailed.
 */
export const isDistributed = (definition: StateDefinition | undefined) =>
  // The engine renames the library's Task events of a DISTRIBUTED Map to 'Map' (run.ts,
  // drainHistory): either name is this state.
  definition?.Type === 'Map' && definition.ItemProcessor?.ProcessorConfig?.Mode === 'DISTRIBUTED';

export const distributedEntered = (
  log: EventLog,
  definition: StateDefinition | undefined,
  state: NonNullable<LibraryEvent['state']>,
  scope: Scope,
  at: number,
) => {
  log.push('MapStateEntered', scope, at, () => ({
    stateEnteredEventDetails: { name: state.name, ...payload('input', state.input) },
  }));
  const items = definition?.ItemReader ? [] : simplePath(definition?.ItemsPath, state.input);
  log.push('MapStateStarted', scope, at, () => ({
    mapStateStartedEventDetails: { length: Array.isArray(items) ? items.length : 0 },
  }));
  scope.task = { name: state.name, failed: false, distributed: true };
};
