/**
 * The shapes the local Step Functions service deals in — machines, executions and their
 * histories — kept apart from the engine (engine.ts) so that the protocol, the store, the Map
 * Run plumbing and the console can name them without reading how executions are run.
 */
import type { StateMachine } from 'aws-local-stepfunctions';
import type { DistributedMap } from './distributed-map.ts';
import type { HistoryEvent } from './history-events.ts';

export type MachineType = 'STANDARD' | 'EXPRESS';
export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';
/** Runs one Task state: `resource` is its Resource field, `input` its effective input. */
export type TaskInvoker = (resource: string, input: unknown) => Promise<unknown>;

export interface Machine {
  arn: string;
  name: string;
  type: MachineType;
  definition: string;
  roleArn: string;
  creationDate: Date;
  runner: StateMachine;
  /** Task state name → Resource: the library overrides Tasks by state name. */
  tasks: Map<string, string>;
  /** DISTRIBUTED Map state name → how to run it and the machine of its child executions. */
  distributed: Map<string, { map: DistributedMap; label: string; child: Machine }>;
  /** Set on the machine of a Map Run's child executions: the Map state's label. */
  label?: string;
}

/** What an execution is apart from its dates and history: kept in memory and on disk alike. */
export interface ExecutionFacts {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  type: MachineType;
  status: ExecutionStatus;
  input: string;
  output?: string;
  error?: string;
  cause?: string;
}

export interface Execution extends ExecutionFacts {
  startDate: Date;
  stopDate?: Date;
  history: ExecutionHistory;
  /** Resolves once the execution has stopped and its history is complete. */
  settled: Promise<void>;
  stop: (error?: string, cause?: string) => void;
  /** Set on the child executions of a Map Run. */
  mapRunArn?: string;
}

/** What an execution's history offers readers: a live History, or one read back from disk. */
export interface ExecutionHistory {
  readonly events: HistoryEvent[];
  readonly lastType: string | undefined;
}
