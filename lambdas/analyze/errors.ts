/**
 * The analysis's errors. None reaches a client as such: analysis.ts turns the format readers'
 * errors into an image's error record (CORRUPT_IMAGE, PIXEL_LIMIT_EXCEEDED, or the next
 * reader), and StagedImageUnavailableError leaves the invocation for the workflow to retry.
 */

/** A format reader's refusal: where Pillow raised (see readers.ts). */
export class FormatError extends Error {}

/** The plugin's _open refused the header: for a reader tried without a signature, not this format. */
export class NotThisFormat extends FormatError {}

/** Thrown by `checkPixels` when the image is over the decompression-bomb limit. */
export class PixelLimitError extends Error {
  readonly pixels: number;
  constructor(pixels: number) {
    super(`${pixels} pixels`);
    this.pixels = pixels;
  }
}

/** Thrown when an image would need more than MEMORY_BUDGET (readers.ts) to check. */
export class MemoryBudgetError extends Error {
  readonly bytes: number;
  constructor(bytes: number) {
    super(`${bytes} bytes`);
    this.bytes = bytes;
  }
}

/**
 * A staged image could not be read (S3 refused, timed out, or the object is gone). Thrown out
 * of the invocation on purpose: the workflow retries it by this name with backoff, then
 * records the images as retryable platform failures — never as "not an image".
 */
export class StagedImageUnavailableError extends Error {
  override name = 'StagedImageUnavailable';
}
