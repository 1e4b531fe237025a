/**
 * Turning uploads into a workflow execution and its outcome into a batch output.
 * The Step Functions client is passed in: the same code runs against AWS and the local endpoint.
 */
import {
  type SFNClient,
  StartExecutionCommand,
  StartSyncExecutionCommand,
  type StartSyncExecutionCommandOutput,
} from '@aws-sdk/client-sfn';
import { STATE_PAYLOAD_BYTES } from '../shared/aws-limits.ts';
import type { MapItem } from '../shared/types.ts';
import { PayloadTooLargeError, WorkflowFailedError, WorkflowTimeoutError } from './errors.ts';
import type { BatchOutput, BatchRequest } from './views.ts';

export interface ExecutionInput {
  request: BatchRequest;
  items: MapItem[];
}

/** The input as Step Functions will receive it. Once large images are staged only a huge
 * number of items can pass the limit; `limit` is lifted above it only by the claim-check
 * benchmark, against a local runtime that lifts its own. */
export const serializeInput = (input: ExecutionInput, limit = STATE_PAYLOAD_BYTES): string => {
  const text = JSON.stringify(input);
  const size = Buffer.byteLength(text, 'utf8');
  if (size > limit) {
    throw new PayloadTooLargeError(
      `The batch needs ${size} bytes of workflow input; Step Functions carries at most ${limit}. Send fewer images per request.`,
      { details: { limit } },
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
  // The signal cancels the HTTP request; the race makes the deadline hold whatever the
  // transport does with it.
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new WorkflowTimeoutError(undefined));
    }, timeoutMs);
  });
  let result: StartSyncExecutionCommandOutput;
  try {
    result = await Promise.race([
      sfn.send(new StartSyncExecutionCommand(params), { abortSignal: controller.signal }),
      deadline,
    ]);
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw new WorkflowTimeoutError(undefined);
    throw error;
  } finally {
    clearTimeout(timer);
  }
  const executionArn = result.executionArn ?? '';
  if (result.status === 'SUCCEEDED' && result.output) {
    return { executionArn, output: JSON.parse(result.output) as BatchOutput };
  }
  if (result.status === 'TIMED_OUT') throw new WorkflowTimeoutError(executionArn);
  throw new WorkflowFailedError(executionArn, result.error, { cause: result.cause });
};

/** Starts the STANDARD workflow and returns at once; the caller polls the execution. */
export const startBatch = async (sfn: SFNClient, params: StartParams) => {
  const result = await sfn.send(new StartExecutionCommand(params));
  return { executionArn: result.executionArn ?? '', startDate: result.startDate ?? new Date() };
};
