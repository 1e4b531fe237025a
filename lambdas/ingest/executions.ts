/**
 * Asynchronous runs: the STANDARD twin's executions, named by the ingest with a random UUID,
 * reachable at GET /executions/{id}. Polling uses DescribeExecution, which Step Functions
 * only offers for STANDARD machines.
 */
import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import type { BatchOutput } from '../shared/workflow.ts';
import { NotFoundError, UnanswerableBatchError } from './errors.ts';
import { renderBatch } from './views.ts';

const EXECUTION_NAME = /^[A-Za-z0-9_-]{1,80}$/;

/** `…:stateMachine:ImageBatchAsync` + `id` → `…:execution:ImageBatchAsync:id`. */
export const executionArnFor = (stateMachineArn: string, id: string) =>
  `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${id}`;

export interface ExecutionView {
  executionId: string;
  executionArn: string;
  status: string;
  startDate: string;
  stopDate?: string;
  /** Exactly the body the synchronous call would have answered. */
  result?: unknown;
  error?: {
    code: string;
    message: string;
    workflowError?: string;
    retryable?: boolean;
    indexes?: number[];
  };
}

/** The result, or why there is none though the run succeeded: images the platform failed to
 * analyze (retryable) or our analysis crashed on make /shape and /nbytes refuse the batch, as
 * the sync call does. */
const resultOf = (output: string): Pick<ExecutionView, 'result' | 'error'> => {
  try {
    return { result: renderBatch(JSON.parse(output) as BatchOutput) };
  } catch (error) {
    if (!(error instanceof UnanswerableBatchError)) throw error;
    return { error: { code: error.code, message: error.message, ...error.details } };
  }
};

const ERRORS: Record<string, { code: string; message: string }> = {
  FAILED: { code: 'WORKFLOW_FAILED', message: 'The analysis workflow failed.' },
  TIMED_OUT: { code: 'WORKFLOW_TIMED_OUT', message: 'The analysis did not finish in time.' },
  ABORTED: { code: 'WORKFLOW_ABORTED', message: 'The analysis was stopped.' },
};

const toExecutionView = (id: string, d: DescribeExecutionCommandOutput): ExecutionView => {
  const status = d.status ?? 'RUNNING';
  const failure = ERRORS[status];
  return {
    executionId: id,
    executionArn: d.executionArn ?? '',
    status,
    startDate: (d.startDate ?? new Date()).toISOString(),
    ...(d.stopDate && { stopDate: d.stopDate.toISOString() }),
    ...(status === 'SUCCEEDED' && d.output && resultOf(d.output)),
    // The error name is safe to show; the cause may hold internals and stays in the logs.
    ...(failure && { error: { ...failure, ...(d.error && { workflowError: d.error }) } }),
  };
};

export const describeBatch = async (
  sfn: SFNClient,
  stateMachineArn: string,
  id: string,
): Promise<ExecutionView> => {
  if (!EXECUTION_NAME.test(id)) throw new NotFoundError(`Unknown execution: ${id}`);
  try {
    const d = await sfn.send(
      new DescribeExecutionCommand({ executionArn: executionArnFor(stateMachineArn, id) }),
    );
    return toExecutionView(id, d);
  } catch (error) {
    if ((error as Error).name === 'ExecutionDoesNotExist') {
      throw new NotFoundError(`Unknown execution: ${id}`, { cause: error });
    }
    throw error;
  }
};
