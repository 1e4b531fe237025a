/**
 * Every environment variable the Lambdas read, typed, read once, and failing fast with the
 * variable's name (Powertools' env helpers) — a misconfigured stack breaks at cold start, not
 * halfway through a request.
 */
import { getNumberFromEnv, getStringFromEnv } from '@aws-lambda-powertools/commons/utils/env';
import { API_GATEWAY_PAYLOAD_BYTES } from './aws-limits.ts';

export interface IngestConfig {
  /** EXPRESS twin, run with StartSyncExecution. */
  syncStateMachineArn: string;
  /** STANDARD twin, run with StartExecution and polled with DescribeExecution. */
  asyncStateMachineArn: string;
  /** Images per synchronous request (the 29 s API Gateway timeout bounds a batch). */
  maxImagesSync: number;
  /** Images per asynchronous request (no time bound; the request size still applies). */
  maxImagesAsync: number;
  /** Largest request body accepted: API Gateway's 10 MB payload quota. */
  maxRequestBytes: number;
  /** Time left to answer before API Gateway's 29 s integration timeout gives up on us. */
  syncDeadlineMs: number;
  /** Claim-check bucket: images that would not fit in the workflow input are staged here. */
  stagingBucket: string;
  /** Execution input size above which images are staged rather than inline: under Step
   * Functions' 262,144 bytes, with room for what the states add to the document. Above that
   * limit only against a local runtime that lifts it (the claim-check benchmark). */
  inlineBudgetBytes: number;
}

let ingest: IngestConfig | undefined;

export const ingestConfig = (): IngestConfig => {
  ingest ??= {
    syncStateMachineArn: getStringFromEnv({ key: 'SYNC_STATE_MACHINE_ARN' }),
    asyncStateMachineArn: getStringFromEnv({ key: 'ASYNC_STATE_MACHINE_ARN' }),
    maxImagesSync: getNumberFromEnv({ key: 'MAX_IMAGES_SYNC', defaultValue: 50 }),
    maxImagesAsync: getNumberFromEnv({ key: 'MAX_IMAGES_ASYNC', defaultValue: 200 }),
    maxRequestBytes: getNumberFromEnv({
      key: 'MAX_REQUEST_BYTES',
      defaultValue: API_GATEWAY_PAYLOAD_BYTES,
    }),
    syncDeadlineMs: getNumberFromEnv({ key: 'SYNC_DEADLINE_MS', defaultValue: 28_000 }),
    stagingBucket: getStringFromEnv({ key: 'STAGING_BUCKET' }),
    inlineBudgetBytes: getNumberFromEnv({ key: 'INLINE_BUDGET_BYTES', defaultValue: 240 * 1024 }),
  };
  return ingest;
};
