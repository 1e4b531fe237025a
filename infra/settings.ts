/**
 * The functions' sizes, one source for the stack and the local runtime, and the deploy-time
 * settings the stack reads from CDK context (no CDK import here: `npm start` loads this too).
 */
import { API_GATEWAY_TIMEOUT_MS } from '../lambdas/shared/aws-limits.ts';
import { DEFINITION_FILE } from '../statemachine/definition.ts';
import { mapConcurrencyOf } from './asl.ts';

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

/**
 * Large batches in the staging bucket, as agreed with the ingest: a batch's uploads (presigned
 * POSTs), its declaration `batch.json` and its manifest live under `batches/<id>/`, the
 * Distributed Map's ResultWriter output under `results/<id>/`. Lifecycle rules expire both.
 */
export const LARGE_BATCH_KEYS = {
  uploads: 'batches/',
  /** The manifest's name inside `batches/<id>/`: the only object the workflow itself reads. */
  manifest: 'manifest.jsonl',
  results: 'results/',
} as const;
/** Uploads are deleted after their analysis; the rule is a backstop. Results are kept for the
 * client to page through, a documented time (README "Deploy"). */
export const LARGE_BATCH_RETENTION_DAYS = { uploads: 1, results: 7 } as const;

/**
 * A large batch's share of the analysis function's reserved concurrency: what is left once a
 * full small batch (the sync/async Map's own concurrency) has its room, so that one large batch
 * running flat out never throttles a synchronous request, whose 29 s leave no time for retries.
 * The large-batch workflow's Distributed Map runs this many child batches at once, each invoking
 * the analysis once: the stack gives it to the ingest (LARGE_BATCH_MAX_CONCURRENCY), which puts
 * it in each run's input, where the Map's MaxConcurrencyPath reads it
 * (statemachine/large-batch.asl.json, `$.batching.maxConcurrency`). The local runtime computes
 * it as the stack does, from the request workflow's Map by default.
 */
export const largeBatchConcurrencyFor = (
  analysisConcurrency: number,
  smallBatchConcurrency = mapConcurrencyOf(DEFINITION_FILE),
) => analysisConcurrency - smallBatchConcurrency;

/** `-c analysisConcurrency=<n>`: the analysis function's reserved concurrency; `minimum` leaves
 * a small batch its Map's concurrency and a large batch at least one analysis. */
export const parseConcurrency = (value: unknown, minimum: number): number => {
  if (value === undefined) return FUNCTION_SETTINGS.analyze.reservedConcurrency;
  const n = Number(value);
  if (!Number.isInteger(n) || n < minimum)
    throw new Error(
      `context "analysisConcurrency" must be an integer of at least ${minimum} (the workflow Map's concurrency, plus one for large batches), not "${String(value)}"`,
    );
  return n;
};
