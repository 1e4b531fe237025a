/**
 * Every environment variable the Lambdas read. The ingest's configuration is typed, read once,
 * and fails fast with the variable's name (Powertools' env helpers) — a misconfigured stack
 * breaks at cold start, not halfway through a request; only the deployed handler reads it, the
 * local runtime and the tests build the object themselves and pass it in. The readers at the
 * end serve the shared modules (clients, tracing, metrics).
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
  /** Pixels a synchronous request may declare, summed over its images' headers: what bounds
   * its decoding work, whatever the compressed size (a 1-bit PNG of 178 MP is a few kB). */
  maxPixelsSync: number;
  /** The same for an asynchronous request. */
  maxPixelsAsync: number;
  /** Largest request body accepted: API Gateway's 10 MB payload quota. */
  maxRequestBytes: number;
  /** How long a synchronous request waits for its workflow, counted from API Gateway's
   * receipt of the request: its 29 s integration timeout, less a second to answer. */
  syncDeadlineMs: number;
  /** Where every image is staged for the analysis (objects under staging/<execution>/), and
   * large batches' uploads (batches/<id>/) and results (results/<id>/). */
  stagingBucket: string;
  /** The large-batch workflow (STANDARD, a Distributed Map), started by POST /batches/{id}/start.
   * Optional so that a stack without it still serves the other routes; the /batches routes then
   * answer 503. */
  largeBatchStateMachineArn?: string;
  /** Child batches one large-batch run analyzes at once: the Distributed Map's
   * MaxConcurrencyPath reads it from the run's input (LargeBatchInput.batching). The stack
   * sets it to the large batches' share of the analysis function's reserved concurrency.
   * Required with largeBatchStateMachineArn: large batches are configured by both or not at all. */
  largeBatchMaxConcurrency?: number;
}

/** The large-batch API's bounds (POST /batches). */
export const BATCH_LIMITS = {
  /** Images one batch may declare. */
  maxImages: 100_000,
  /** Bytes one image may declare: a presigned POST's content-length-range holds it to that. */
  maxImageBytes: 50 * 1024 * 1024,
  /** Presigned forms per answer: each is ~1-3 kB (its policy and, in Lambda, the role's session
   * token twice), so 500 keep a page far below Lambda's 6 MB response. */
  uploadsPerPage: 500,
  /** How long a presigned form is valid. */
  uploadExpirySeconds: 15 * 60,
  /** Images one analysis invocation takes at most (the ItemBatcher's batch)... */
  maxImagesPerInvocation: 100,
  /** ...and the bytes it should read at most, on average: the batch size is cut to fit
   * (50 MB images go five at a time), so that a batch stays far within the function's
   * timeout. */
  bytesPerInvocation: 256 * 1024 * 1024,
  /** Records per GET /batches/{id}/results page. */
  maxResultsPerPage: 1000,
  /** Pages of 1,000 objects one DELETE /batches/{id} deletes at most (a listing and a
   * DeleteObjects each, about a second in S3): 10,000 objects stay well within API Gateway's
   * 29 s; a larger batch answers 202 and is finished by DELETE again. */
  cancelPagesPerRequest: 10,
  /** ...and it starts no page with less than this left before the sync deadline. */
  cancelPageMs: 5000,
} as const;

export const DEFAULT_LIMITS = {
  maxImagesSync: 50,
  maxImagesAsync: 200,
  maxPixelsSync: 1_000_000_000,
  maxPixelsAsync: 10_000_000_000,
  maxRequestBytes: API_GATEWAY_PAYLOAD_BYTES,
  syncDeadlineMs: 28_000,
} as const;

let ingest: IngestConfig | undefined;

/** A required whole number of at least 1 (a Map's concurrency of 0 would mean unbounded). Read
 * as a string: Powertools' getNumberFromEnv without a default reports a missing variable as
 * "must be a number" rather than "is required". */
const positiveInteger = (key: string): number => {
  const value = Number(getStringFromEnv({ key }));
  if (!Number.isInteger(value) || value < 1)
    throw new TypeError(`Environment variable ${key} must be a whole number of at least 1`);
  return value;
};

const readIngestConfig = (): IngestConfig => {
  const number = (key: string, defaultValue: number) => getNumberFromEnv({ key, defaultValue });
  const largeBatchStateMachineArn =
    getStringFromEnv({ key: 'LARGE_BATCH_STATE_MACHINE_ARN', defaultValue: '' }) || undefined;
  return {
    syncStateMachineArn: getStringFromEnv({ key: 'SYNC_STATE_MACHINE_ARN' }),
    asyncStateMachineArn: getStringFromEnv({ key: 'ASYNC_STATE_MACHINE_ARN' }),
    maxImagesSync: number('MAX_IMAGES_SYNC', DEFAULT_LIMITS.maxImagesSync),
    maxImagesAsync: number('MAX_IMAGES_ASYNC', DEFAULT_LIMITS.maxImagesAsync),
    maxPixelsSync: number('MAX_PIXELS_SYNC', DEFAULT_LIMITS.maxPixelsSync),
    maxPixelsAsync: number('MAX_PIXELS_ASYNC', DEFAULT_LIMITS.maxPixelsAsync),
    maxRequestBytes: number('MAX_REQUEST_BYTES', DEFAULT_LIMITS.maxRequestBytes),
    syncDeadlineMs: number('SYNC_DEADLINE_MS', DEFAULT_LIMITS.syncDeadlineMs),
    stagingBucket: getStringFromEnv({ key: 'STAGING_BUCKET' }),
    largeBatchStateMachineArn,
    largeBatchMaxConcurrency: largeBatchStateMachineArn
      ? positiveInteger('LARGE_BATCH_MAX_CONCURRENCY')
      : undefined,
  };
};

export const ingestConfig = (): IngestConfig => {
  ingest ??= readIngestConfig();
  return ingest;
};

/*
 * Small readers for the variables the shared modules consult, read each time they are called
 * rather than once: the AWS SDK and Powertools define these variables, with their own defaults.
 */

/** An endpoint override for `service` (AWS_ENDPOINT_URL_SFN, …) or for every service
 * (AWS_ENDPOINT_URL), the SDK's standard variables; undefined when neither is set. */
export const endpointOverride = (service: string): string | undefined =>
  process.env[`AWS_ENDPOINT_URL_${service}`] ?? process.env.AWS_ENDPOINT_URL;

/** X-Ray applies only inside Lambda (AWS_LAMBDA_FUNCTION_NAME set) and unless the stack turns
 * Powertools' tracing off (POWERTOOLS_TRACE_ENABLED=false). */
export const tracingEnabled = (): boolean =>
  Boolean(process.env.AWS_LAMBDA_FUNCTION_NAME) && process.env.POWERTOOLS_TRACE_ENABLED !== 'false';

/** The CloudWatch namespace the stack sets per stage (POWERTOOLS_METRICS_NAMESPACE), or
 * `defaultValue`. */
export const metricsNamespace = (defaultValue: string): string =>
  getStringFromEnv({ key: 'POWERTOOLS_METRICS_NAMESPACE', defaultValue });

/** Set by the local twin in its sandboxes, whose host process has already restricted libvips'
 * loaders once for all of them (lambdas/analyze/loaders.ts says why); never set in Lambda. */
export const loadersRestrictedByHost = (): boolean =>
  process.env.LIBVIPS_LOADERS_RESTRICTED_BY_HOST === '1';
