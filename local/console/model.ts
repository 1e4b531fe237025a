/**
 * What the console shows of a run, read from its AWS-shaped history alone (so it reads any
 * history GetExecutionHistory would return): every visit of every state with its input, output
 * and error, Map iterations, and Map Runs.
 */
import type { HistoryEvent } from '../sfn/history-events.ts';

export type VisitStatus = 'RUNNING' | 'SUCCEEDED' | 'CAUGHT' | 'FAILED' | 'ABORTED';
export type IterationStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED';

export interface Visit {
  name: string;
  type: string;
  /** The Map iteration it ran in, if any. */
  iteration?: { map: string; index: number };
  status: VisitStatus;
  input?: string;
  output?: string;
  error?: string;
  cause?: string;
  /** Task invocations beyond the first (Retry). */
  retries: number;
  start: Date;
  stop?: Date;
}

export interface Iteration {
  index: number;
  status: IterationStatus;
  start: Date;
  stop?: Date;
  /** Its first state's input (the item) and its last state's output (the result). */
  input?: string;
  output?: string;
  /** The last error raised in it, caught or not. */
  error?: string;
  cause?: string;
}

export interface MapState {
  name: string;
  length?: number;
  iterations: Iteration[];
}

export interface RunModel {
  visits: Visit[];
  maps: Map<string, MapState>;
  /** Distributed Map states' Map Runs, by state name, oldest first. */
  mapRuns: { state: string; arn: string }[];
}

type Scope = { map: string; index: number } | undefined;
const detail = <T>(e: HistoryEvent, key: string) => e[key] as T | undefined;

export const buildModel = (events: HistoryEvent[], finished: boolean): RunModel => {
  const visits: Visit[] = [];
  const maps = new Map<string, MapState>();
  const mapRuns: RunModel['mapRuns'] = [];
  const scopeOf = new Map<number, Scope>();
  const open = new Map<string, Visit>();
  const iterations = new Map<string, Iteration>();
  const openMaps: string[] = [];
  const key = (scope: Scope) => (scope ? `${scope.map}#${scope.index}` : '');

  for (const e of events) {
    let scope = scopeOf.get(e.previousEventId);
    const mapEvent = e.type.startsWith('MapState') || e.type.startsWith('MapRun');
    if (mapEvent && e.type !== 'MapStateEntered') {
      // A Map's own events belong where the Map was entered, not in its last iteration.
      const name = openMaps.at(-1);
      const entered = name ? visits.findLast((v) => v.name === name) : undefined;
      scope = entered?.iteration;
    }
    if (e.type === 'MapIterationStarted') {
      const d = detail<{ name: string; index: number }>(e, 'mapIterationStartedEventDetails');
      scope = d ? { map: d.name, index: d.index } : scope;
      if (d) {
        const iteration: Iteration = { index: d.index, status: 'RUNNING', start: e.timestamp };
        iterations.set(key(scope), iteration);
        maps.get(d.name)?.iterations.push(iteration);
      }
    }
    scopeOf.set(e.id, scope);
    const current = open.get(key(scope));
    const iteration = iterations.get(key(scope));

    if (e.type.endsWith('StateEntered')) {
      const d = detail<{ name: string; input?: string }>(e, 'stateEnteredEventDetails');
      const visit: Visit = {
        name: d?.name ?? '',
        type: e.type.slice(0, -'StateEntered'.length),
        iteration: scope,
        status: 'RUNNING',
        input: d?.input,
        retries: 0,
        start: e.timestamp,
      };
      visits.push(visit);
      open.set(key(scope), visit);
      if (iteration && iteration.input === undefined) iteration.input = d?.input;
      if (visit.type === 'Map') {
        openMaps.push(visit.name);
        maps.set(visit.name, { name: visit.name, iterations: [] });
      }
    } else if (e.type === 'MapStateStarted') {
      const map = maps.get(openMaps.at(-1) ?? '');
      if (map) map.length = detail<{ length: number }>(e, 'mapStateStartedEventDetails')?.length;
    } else if (e.type === 'TaskScheduled' && current?.status === 'FAILED') {
      // Scheduled again after a failure: a Retry. The last error stays for the panel.
      current.retries += 1;
      current.status = 'RUNNING';
    } else if (e.type === 'TaskFailed' || e.type === 'TaskTimedOut') {
      const d = detail<{ error?: string; cause?: string }>(
        e,
        e.type === 'TaskFailed' ? 'taskFailedEventDetails' : 'taskTimedOutEventDetails',
      );
      if (current) Object.assign(current, { error: d?.error, cause: d?.cause, status: 'FAILED' });
      if (iteration) Object.assign(iteration, { error: d?.error, cause: d?.cause });
    } else if (e.type.endsWith('StateExited')) {
      const d = detail<{ name: string; output?: string }>(e, 'stateExitedEventDetails');
      if (current && current.name === d?.name) {
        current.output = d.output;
        current.stop = e.timestamp;
        current.status = current.status === 'FAILED' ? 'CAUGHT' : 'SUCCEEDED';
        open.delete(key(scope));
      }
      if (iteration) iteration.output = d?.output;
      if (current?.type === 'Map') openMaps.pop();
    } else if (e.type === 'MapStateFailed') {
      const name = openMaps.at(-1);
      const visit = name ? visits.findLast((v) => v.name === name) : undefined;
      if (visit) visit.status = 'FAILED';
    } else if (e.type === 'MapIterationSucceeded' || e.type === 'MapIterationFailed') {
      const d = detail<{ name: string; index: number }>(
        e,
        `${e.type[0]?.toLowerCase()}${e.type.slice(1)}EventDetails`,
      );
      const it = d ? iterations.get(key({ map: d.name, index: d.index })) : undefined;
      if (it) {
        it.status = e.type === 'MapIterationSucceeded' ? 'SUCCEEDED' : 'FAILED';
        it.stop = e.timestamp;
      }
    } else if (e.type === 'MapRunStarted') {
      const arn = detail<{ mapRunArn: string }>(e, 'mapRunStartedEventDetails')?.mapRunArn;
      const state = openMaps.at(-1);
      if (arn && state) mapRuns.push({ state, arn });
    } else if (e.type === 'ExecutionFailed') {
      const d = detail<{ error?: string; cause?: string }>(e, 'executionFailedEventDetails');
      for (const visit of open.values()) {
        visit.status = 'FAILED';
        visit.error ??= d?.error;
        visit.cause ??= d?.cause;
      }
    }
  }
  if (finished) {
    // What a stopped run left running was cut short: a sibling iteration failed, or the
    // execution was stopped or timed out.
    for (const visit of visits) if (visit.status === 'RUNNING') visit.status = 'ABORTED';
    for (const it of iterations.values()) if (it.status === 'RUNNING') it.status = 'ABORTED';
  }
  return { visits, maps, mapRuns };
};

/** How one state did across its visits: the color and the counts the graph shows. */
export const stateSummary = (visits: Visit[]) => {
  const counts: Record<VisitStatus, number> = {
    RUNNING: 0,
    SUCCEEDED: 0,
    CAUGHT: 0,
    FAILED: 0,
    ABORTED: 0,
  };
  for (const v of visits) counts[v.status] += 1;
  const status =
    counts.FAILED > 0
      ? 'failed'
      : counts.RUNNING > 0
        ? 'running'
        : counts.CAUGHT > 0
          ? 'caught'
          : counts.SUCCEEDED > 0
            ? 'succeeded'
            : counts.ABORTED > 0
              ? 'aborted'
              : 'not-run';
  return { status, counts };
};
