/**
 * The functions' sizes, one source for the stack and the local runtime, and the deploy-time
 * settings the stack reads from CDK context (no CDK import here: `npm start` loads this too).
 */
import { API_GATEWAY_TIMEOUT_MS } from '../lambdas/shared/aws-limits.ts';

export const FUNCTION_SETTINGS = {
  analyze: {
    name: 'image-analyze',
    // libvips is CPU-bound and Lambda's CPU grows with memory: 1769 MB is one full vCPU,
    // where a 12 MP JPEG validates in ~10 ms; more memory would buy idle cores.
    memoryMb: 1769,
    // Under the workflow task's 60 s: a Lambda timeout surfaces as a caught per-image error.
    timeoutSeconds: 30,
    // At most this many analyses run at once, whatever the request rate (reserved concurrency:
    // also guaranteed to us, out of the account's regional quota). Without a bound, 50 req/s
    // × the Map's 10 in flight would ask for 500 × 1769 MB and hit the account quota, where
    // images fail after their retries. Two full synchronous batches at the Map's concurrency.
    reservedConcurrency: 20,
  },
  ingest: {
    name: 'image-ingest',
    // A 6 MB event is decoded from base64 and split into parts: a few copies of the body.
    memoryMb: 1024,
    // API Gateway gives up at 29 s; the ingest answers 504 itself a second before.
    timeoutSeconds: API_GATEWAY_TIMEOUT_MS / 1000,
  },
} as const;

/** `-c stage=<name>`: every name in the stack derives from it (stack, API stage, metric
 * namespace, log groups), so stages live side by side in one account. */
export const DEFAULT_STAGE = 'dev';
const STAGE_PATTERN = /^[a-z][a-z0-9-]{0,19}$/;

export const parseStage = (value: unknown): string => {
  const stage = String(value ?? DEFAULT_STAGE);
  if (!STAGE_PATTERN.test(stage))
    throw new Error(
      `context "stage" must be lower-case letters, digits and dashes (up to 20, starting with a letter), not "${stage}"`,
    );
  return stage;
};

export const stackNameFor = (stage: string) => `ImageBatch-${stage}`;
export const metricsNamespaceFor = (stage: string) => `ImageBatch/${stage}`;

/** `-c analysisConcurrency=<n>`: the analysis function's reserved concurrency. */
export const parseConcurrency = (value: unknown, minimum: number): number => {
  if (value === undefined) return FUNCTION_SETTINGS.analyze.reservedConcurrency;
  const n = Number(value);
  if (!Number.isInteger(n) || n < minimum)
    throw new Error(
      `context "analysisConcurrency" must be an integer of at least ${minimum} (the workflow's Map concurrency), not "${String(value)}"`,
    );
  return n;
};
