/**
 * Turning uploads into a workflow execution and its outcome into a batch output.
 * The Step Functions client is passed in: the same code runs against AWS and the local endpoint.
 */
import {
  DescribeExecutionCommand,
  type SFNClient,
  StartExecutionCommand,
  StartSyncExecutionCommand,
} from '@aws-sdk/client-sfn';
import { STATE_PAYLOAD_BYTES } from '../shared/aws-limits.ts';
import { DeadlineExceededError, withDeadline } from '../shared/deadline.ts';
import type { BatchOutput, ExecutionInput } from '../shared/workflow.ts';
import { PayloadTooLargeError, WorkflowFailedError, WorkflowTimeoutError } from './errors.ts';
import { executionArnFor } from './executions.ts';

/** The input as Step Functions will receive it. Items hold references only, so only a huge
 * number of long names could pass the limit; the request limits keep well under it. */
export const serializeInput = (input: ExecutionInput): string => {
  const text = JSON.stringify(input);
  const size = Buffer.byteLength(text, 'utf8');
  if (size > STATE_PAYLOAD_BYTES) {
    throw new PayloadTooLargeError(
      `The batch needs ${size} bytes of workflow input; Step Functions carries at most ${STATE_PAYLOAD_BYTES}. Send fewer images per request.`,
      { details: { limit: STATE_PAYLOAD_BYTES } },
    );
  }
  return text;
};

export interface StartParams {
  stateMachineArn: string;
  input: string;
  name: string;
}

/** Runs the EXPRESS workflow and waits for it, at most `timeoutMs`. */
export const runBatch = async (
  sfn: SFNClient,
  { timeoutMs, ...params }: StartParams & { timeoutMs: number },
): Promise<{ executionArn: string; output: BatchOutput }> => {
  const result = await withDeadline(timeoutMs, (abortSignal) =>
    sfn.send(new StartSyncExecutionCommand(params), { abortSignal }),
  ).catch((error: unknown) => {
    if (error instanceof DeadlineExceededError)
      throw new WorkflowTimeoutError(undefined, { cause: error });
    throw error;
  });
  const executionArn = result.executionArn ?? '';
  if (result.status === 'SUCCEEDED' && result.output) {
    return { executionArn, output: JSON.parse(result.output) as BatchOutput };
  }
  if (result.status === 'TIMED_OUT') throw new WorkflowTimeoutError(executionArn);
  throw new WorkflowFailedError(executionArn, result.error, { cause: result.cause });
};

/** Whether a failed call may still have reached the service: no answer (a timeout, a dropped
 * connection) or a 5xx. A 4xx is the service's definite refusal. */
export const mayHaveReached = (error: unknown) => {
  const status = (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
  return status === undefined || status >= 500;
};

/** The STANDARD workflow did not start: nothing will read the staged images. */
export class NotStartedError extends Error {}

/**
 * Starts the STANDARD workflow and returns at once; the caller polls the execution. A start
 * that got no answer may have started the run (the SDK's retries, with the same name, cannot
 * start two: StartExecution is idempotent by name for Standard workflows), so the run is looked
 * up by its name before the batch is given up: found, it is the answer; not found, the start
 * definitely failed (NotStartedError); the lookup failing too, the original error stands.
 */
export const startBatch = async (sfn: SFNClient, params: StartParams) => {
  try {
    const result = await sfn.send(new StartExecutionCommand(params));
    return { executionArn: result.executionArn ?? '', startDate: result.startDate ?? new Date() };
  } catch (error) {
    if (!mayHaveReached(error))
      throw new NotStartedError('StartExecution refused', { cause: error });
    const executionArn = executionArnFor(params.stateMachineArn, params.name);
    const found = await sfn.send(new DescribeExecutionCommand({ executionArn })).catch((e) => {
      if ((e as Error).name === 'ExecutionDoesNotExist')
        throw new NotStartedError('StartExecution failed', { cause: error });
      throw error;
    });
    return { executionArn, startDate: found.startDate ?? new Date() };
  }
};
