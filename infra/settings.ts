/**
 * The functions' sizes, one source for the stack and the local runtime (no CDK import here:
 * `npm start` loads this too).
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
  },
  ingest: {
    name: 'image-ingest',
    // A 6 MB event is decoded from base64 and split into parts: a few copies of the body.
    memoryMb: 1024,
    // API Gateway gives up at 29 s; the ingest answers 504 itself a second before.
    timeoutSeconds: API_GATEWAY_TIMEOUT_MS / 1000,
  },
} as const;
