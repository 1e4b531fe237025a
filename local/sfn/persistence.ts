/**
 * How executions outlive a restart: the record written to the store, what is read back from
 * it, and what a run a crash cut short becomes — split from engine.ts, which decides when to
 * write, restore and prune (retention).
 */
import type { StoredExecution } from '../store.ts';
import type { Execution } from './execution.ts';

/** "Execution history is retained for 90 days after the execution is closed" (Standard).
 * https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html */
export const STANDARD_RETENTION_MS = 90 * 24 * 60 * 60 * 1000;

/** Why a run left RUNNING by a crash ended: the error and cause it is given at the next start. */
export const CRASHED = {
  error: 'States.Runtime',
  cause:
    'The local runtime stopped (crash or kill) while this execution was running; it cannot be resumed, so it was ended when the runtime started again.',
} as const;

export const stored = (e: Execution, withHistory = false): StoredExecution => ({
  executionArn: e.executionArn,
  stateMachineArn: e.stateMachineArn,
  name: e.name,
  type: e.type,
  status: e.status,
  input: e.input,
  output: e.output,
  error: e.error,
  cause: e.cause,
  startDate: e.startDate.toISOString(),
  stopDate: e.stopDate?.toISOString(),
  events: withHistory
    ? e.history.events.map((event) => ({ ...event, timestamp: event.timestamp.toISOString() }))
    : undefined,
});

/** What is known of a run a crash cut short: it started, and it failed when found. */
export const crashedHistory = (
  record: StoredExecution,
  roleArn = '',
): StoredExecution['events'] => [
  {
    timestamp: record.startDate,
    type: 'ExecutionStarted',
    id: 1,
    previousEventId: 0,
    executionStartedEventDetails: {
      input: record.input,
      inputDetails: { truncated: false },
      roleArn,
    },
  },
  {
    timestamp: record.stopDate ?? new Date().toISOString(),
    type: 'ExecutionFailed',
    id: 2,
    previousEventId: 1,
    executionFailedEventDetails: { error: record.error, cause: record.cause },
  },
];

export const restored = (record: StoredExecution): Execution => {
  const events = (record.events ?? []).map((event) => ({
    ...event,
    timestamp: new Date(event.timestamp),
  }));
  return {
    executionArn: record.executionArn,
    stateMachineArn: record.stateMachineArn,
    name: record.name,
    type: record.type,
    status: record.status,
    input: record.input,
    output: record.output,
    error: record.error,
    cause: record.cause,
    startDate: new Date(record.startDate),
    stopDate: record.stopDate ? new Date(record.stopDate) : undefined,
    history: { events, lastType: events.at(-1)?.type },
    settled: Promise.resolve(),
    stop: () => undefined,
  };
};
