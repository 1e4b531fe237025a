/**
 * A Map Run: the set of child workflow executions one DISTRIBUTED Map state starts, and its
 * progress, as DescribeMapRun and ListMapRuns report it.
 * https://docs.aws.amazon.com/step-functions/latest/apireference/API_DescribeMapRun.html
 * https://docs.aws.amazon.com/step-functions/latest/dg/concepts-examine-map-run.html
 */
import type { Execution, ExecutionStatus } from './execution.ts';

export type MapRunStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED';

/** MapRunItemCounts and MapRunExecutionCounts share this shape. */
export interface MapRunCounts {
  pending: number;
  running: number;
  succeeded: number;
  failed: number;
  timedOut: number;
  aborted: number;
  total: number;
  resultsWritten: number;
  failuresNotRedrivable: number;
  pendingRedrive: number;
}

const counts = (total: number): MapRunCounts => ({
  pending: total,
  running: 0,
  succeeded: 0,
  failed: 0,
  timedOut: 0,
  aborted: 0,
  total,
  resultsWritten: 0,
  failuresNotRedrivable: 0,
  pendingRedrive: 0,
});

const countKey = {
  SUCCEEDED: 'succeeded',
  FAILED: 'failed',
  TIMED_OUT: 'timedOut',
  ABORTED: 'aborted',
} as const satisfies Record<Exclude<ExecutionStatus, 'RUNNING'>, keyof MapRunCounts>;

export class MapRun {
  readonly startDate = new Date();
  stopDate?: Date;
  status: MapRunStatus = 'RUNNING';
  itemCounts = counts(0);
  executionCounts = counts(0);
  /** Child executions by ARN, in the order they were started. */
  readonly children = new Map<string, Execution>();

  readonly mapRunArn: string;
  /** The parent execution, the one whose Map state started this run. */
  readonly executionArn: string;
  /** `<parent state machine ARN>/<label>`: what ListMapRuns reports as stateMachineArn. */
  readonly stateMachineArn: string;
  readonly maxConcurrency: number;
  readonly toleratedFailurePercentage: number;
  readonly toleratedFailureCount: number;

  constructor(init: {
    mapRunArn: string;
    executionArn: string;
    stateMachineArn: string;
    maxConcurrency: number;
    toleratedFailurePercentage: number;
    toleratedFailureCount: number;
  }) {
    this.mapRunArn = init.mapRunArn;
    this.executionArn = init.executionArn;
    this.stateMachineArn = init.stateMachineArn;
    this.maxConcurrency = init.maxConcurrency;
    this.toleratedFailurePercentage = init.toleratedFailurePercentage;
    this.toleratedFailureCount = init.toleratedFailureCount;
  }

  /** The id AWS uses as the ResultWriter folder: the ARN's last segment. */
  get id(): string {
    return this.mapRunArn.slice(this.mapRunArn.lastIndexOf(':') + 1);
  }

  plan(items: number, executions: number): void {
    this.itemCounts = counts(items);
    this.executionCounts = counts(executions);
  }

  started(items: number): void {
    move(this.itemCounts, 'pending', 'running', items);
    move(this.executionCounts, 'pending', 'running', 1);
  }

  finished(items: number, status: Exclude<ExecutionStatus, 'RUNNING'>): void {
    move(this.itemCounts, 'running', countKey[status], items);
    move(this.executionCounts, 'running', countKey[status], 1);
    if (status !== 'SUCCEEDED') {
      // Redrive is not implemented locally: every failure is final.
      this.itemCounts.failuresNotRedrivable += items;
      this.executionCounts.failuresNotRedrivable += 1;
    }
  }

  stop(status: Exclude<MapRunStatus, 'RUNNING'>): void {
    this.status = status;
    this.stopDate = new Date();
  }

  describe() {
    return {
      mapRunArn: this.mapRunArn,
      executionArn: this.executionArn,
      status: this.status,
      startDate: this.startDate,
      stopDate: this.stopDate,
      maxConcurrency: this.maxConcurrency,
      toleratedFailurePercentage: this.toleratedFailurePercentage,
      toleratedFailureCount: this.toleratedFailureCount,
      itemCounts: { ...this.itemCounts },
      executionCounts: { ...this.executionCounts },
      redriveCount: 0,
    };
  }

  listItem() {
    return {
      executionArn: this.executionArn,
      mapRunArn: this.mapRunArn,
      stateMachineArn: this.stateMachineArn,
      startDate: this.startDate,
      stopDate: this.stopDate,
    };
  }
}

const move = (c: MapRunCounts, from: keyof MapRunCounts, to: keyof MapRunCounts, n: number) => {
  c[from] -= n;
  c[to] += n;
};
