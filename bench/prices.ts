/**
 * AWS list prices the cost model multiplies the local runtime's counts by: one table, one date.
 *
 * Region us-east-1, on-demand, no free tier. Transcribed 2026-11-29 from the pricing pages
 * named beside each line (this environment has no network to re-read them: check them before
 * quoting a figure). Lambda is billed per ms; Express per request and per 100 ms of duration
 * at 64 MB chunks of memory (the pricing page: memory follows the definition and payload size;
 * a small batch's run is taken as one chunk); Standard per state transition, retries included.
 */
export const PRICES_DATE = '2026-11-29';

export const PRICES = {
  /** https://aws.amazon.com/api-gateway/pricing/ — REST APIs, first 333 million requests. */
  apiGatewayRestPerRequest: 3.5 / 1e6,
  /** https://aws.amazon.com/lambda/pricing/ — requests, any architecture. */
  lambdaPerRequest: 0.2 / 1e6,
  /** https://aws.amazon.com/lambda/pricing/ — arm64 duration, first 7.5 billion GB-s. */
  lambdaArmPerGbSecond: 0.0000133334,
  /** https://aws.amazon.com/lambda/pricing/ — x86_64 duration (the original's function). */
  lambdaX86PerGbSecond: 0.0000166667,
  /** https://aws.amazon.com/step-functions/pricing/ — Express requests. */
  expressPerRequest: 1 / 1e6,
  /** https://aws.amazon.com/step-functions/pricing/ — Express duration, first 1,000 GB-hours. */
  expressPerGbSecond: 0.00001667,
  /** https://aws.amazon.com/step-functions/pricing/ — Standard state transitions. */
  standardPerTransition: 0.025 / 1000,
  /** https://aws.amazon.com/s3/pricing/ — S3 Standard PUT, COPY, POST, LIST requests. */
  s3PutPerRequest: 0.005 / 1000,
  /** https://aws.amazon.com/s3/pricing/ — S3 Standard GET, SELECT and all other requests. */
  s3GetPerRequest: 0.0004 / 1000,
  /** https://aws.amazon.com/s3/pricing/ — DELETE and CANCEL requests are free. */
  s3DeletePerRequest: 0,
  /** https://aws.amazon.com/cloudwatch/pricing/ — Logs ingestion (standard and vended). */
  logsPerGb: 0.5,
} as const;

/** Lambda's own START, END and REPORT lines per invocation, about this many bytes: an estimate
 * (the local runtime does not write them). */
export const LAMBDA_PLATFORM_LOG_BYTES = 300;
