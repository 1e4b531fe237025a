/**
 * The AWS limits the design is shaped by, in one place: the Lambdas stay inside them and the
 * local runtime enforces them, so what breaks in AWS breaks on a laptop first.
 */

/** API Gateway: largest request payload. */
export const API_GATEWAY_PAYLOAD_BYTES = 10 * 1024 * 1024;
/** API Gateway: integration timeout. */
export const API_GATEWAY_TIMEOUT_MS = 29_000;
/** Lambda: synchronous invocation payload, request and response alike. */
export const LAMBDA_SYNC_PAYLOAD_BYTES = 6 * 1024 * 1024;
/** Step Functions: an execution's input and every state's input and output, as UTF-8. */
export const STATE_PAYLOAD_BYTES = 262_144;
/** Step Functions: the longest an Express execution runs. */
export const EXPRESS_MAX_DURATION_MS = 5 * 60_000;
