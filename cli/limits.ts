/**
 * The service's published limits (README, "Limits"). The CLI is a client of the HTTP API and
 * cannot read the service's configuration, so it plans with the documented defaults; a
 * deployment configured otherwise still has the last word, and its 413 reaches the user.
 */
export const PUBLISHED_LIMITS = {
  /** Images per synchronous request (`MAX_IMAGES_SYNC`): the 29 s API Gateway timeout. */
  maxImagesSync: 50,
  /** Images per asynchronous request (`MAX_IMAGES_ASYNC`). */
  maxImagesAsync: 200,
  /** Request body "in practice about 4.4 MB": Lambda's 6 MiB event carries the body in base64
   * (a third larger), with the rest of the event beside it. */
  maxRequestBytes: 4_400_000,
  /** Images one large batch (`POST /batches`) may declare. */
  maxBatchImages: 100_000,
  /** Bytes one image of a large batch may have (its presigned form holds it to that). */
  maxImageBytes: 50 * 1024 * 1024,
} as const;

export type Limits = { [K in keyof typeof PUBLISHED_LIMITS]: number };

/** Room for one multipart part's boundary and headers around its bytes (a generous bound:
 * planning must not let a set through that the real body would not fit). */
const PART_HEADROOM_BYTES = 512;

/** What a multipart upload of these files weighs, about. */
export const requestBytes = (files: readonly { file: string; size: number }[]) =>
  files.reduce((sum, f) => sum + f.size + Buffer.byteLength(f.file) + PART_HEADROOM_BYTES, 0);
