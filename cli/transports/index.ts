/**
 * Which route carries a set: the user need not know. Within the published limits of one
 * request, the synchronous route for up to 50 images and the asynchronous one up to 200;
 * beyond those, the large-batch API (`/batches`, direct uploads to S3) is the way, and it has
 * not landed yet — such sets are refused rather than half-sent. `--sync` and `--async` force a
 * route and let the service judge the set against its own configuration.
 */
import { TooLargeError } from '../errors.ts';
import type { InputFile } from '../files.ts';
import { type Limits, PUBLISHED_LIMITS, requestBytes } from '../limits.ts';
import { size } from '../progress.ts';
import { asyncTransport } from './async.ts';
import { syncTransport } from './sync.ts';
import type { Transport } from './transport.ts';

export const TRANSPORTS = { sync: syncTransport, async: asyncTransport } satisfies Record<
  string,
  Transport
>;
export type RouteName = keyof typeof TRANSPORTS;

export const chooseRoute = (
  files: readonly InputFile[],
  forced: RouteName | undefined,
  limits: Limits = PUBLISHED_LIMITS,
): RouteName => {
  if (forced) return forced;
  const bytes = requestBytes(files);
  const notYet = 'the large-batch path (direct uploads to S3) is not available yet';
  if (bytes > limits.maxRequestBytes) {
    throw new TooLargeError(
      `${files.length} files, about ${size(bytes)}: over the ${size(limits.maxRequestBytes)} one request takes, and ${notYet}`,
    );
  }
  if (files.length <= limits.maxImagesSync) return 'sync';
  if (files.length <= limits.maxImagesAsync) return 'async';
  throw new TooLargeError(
    `${files.length} files: over the ${limits.maxImagesAsync} one request takes, and ${notYet}`,
  );
};
