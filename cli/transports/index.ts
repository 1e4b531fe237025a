/**
 * Which route carries a set: the user need not know. What fits one synchronous request (up to
 * 50 images, about 4.4 MB) goes there, answered in one round trip; anything larger goes
 * through the large-batch API (`/batches`: direct uploads to S3, a Distributed Map, per-image
 * progress, paged results), which has neither the request's byte limit nor its 200 images.
 * The asynchronous route (202, then polling) is never chosen: for a set past the sync limits
 * it would cap at 200 images and 4.4 MB and report no progress. `--sync`, `--async` and
 * `--batch` force a route and let the service judge the set against its own configuration.
 */
import { TooLargeError } from '../errors.ts';
import type { InputFile } from '../files.ts';
import { type Limits, PUBLISHED_LIMITS, requestBytes } from '../limits.ts';
import { size } from '../progress.ts';
import { asyncTransport } from './async.ts';
import { batchesTransport } from './batches.ts';
import { syncTransport } from './sync.ts';
import type { Transport } from './transport.ts';

export const TRANSPORTS = {
  sync: syncTransport,
  async: asyncTransport,
  batch: batchesTransport,
} satisfies Record<string, Transport>;
export type RouteName = keyof typeof TRANSPORTS;

/** Refuses, before anything is sent, a set no route takes: too many images or one too large. */
const assertBatchable = (files: readonly InputFile[], limits: Limits) => {
  if (files.length > limits.maxBatchImages) {
    throw new TooLargeError(
      `${files.length} files: over the ${limits.maxBatchImages} one large batch takes; split the set`,
    );
  }
  const huge = files.find((f) => f.size > limits.maxImageBytes);
  if (huge) {
    throw new TooLargeError(
      `${huge.file} is ${size(huge.size)}: over the ${size(limits.maxImageBytes)} the service takes for one image`,
    );
  }
};

export const chooseRoute = (
  files: readonly InputFile[],
  forced: RouteName | undefined,
  limits: Limits = PUBLISHED_LIMITS,
): RouteName => {
  if (forced) return forced;
  if (files.length <= limits.maxImagesSync && requestBytes(files) <= limits.maxRequestBytes)
    return 'sync';
  assertBatchable(files, limits);
  return 'batch';
};
