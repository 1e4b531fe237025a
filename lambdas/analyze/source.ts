import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { MapItem } from '../shared/workflow.ts';

/**
 * A staged image could not be read (S3 refused, timed out, or the object is gone). Thrown out
 * of the invocation on purpose: the workflow retries it by this name with backoff, then
 * records the image as a retryable platform failure — never as "not an image".
 */
export class StagedImageUnavailableError extends Error {
  override name = 'StagedImageUnavailable';
}

/** The bytes of one image: its range of the request's staged object. */
export const readStaged = async (
  { object, offset, size }: Pick<MapItem, 'object' | 'offset' | 'size'>,
  s3: S3Client,
): Promise<Uint8Array> => {
  // An empty upload has no range to read (S3 would answer 416); the analysis says EMPTY_IMAGE.
  if (size === 0) return new Uint8Array();
  try {
    const response = await s3.send(
      new GetObjectCommand({
        Bucket: object.bucket,
        Key: object.key,
        Range: `bytes=${offset}-${offset + size - 1}`,
      }),
    );
    if (!response.Body) throw new Error('empty response body');
    const bytes = await response.Body.transformToByteArray();
    if (bytes.length !== size) throw new Error(`read ${bytes.length} bytes of ${size}`);
    return bytes;
  } catch (error) {
    // The name of the S3 error (NoSuchKey, SlowDown, …) helps; its message may hold internals.
    throw new StagedImageUnavailableError(
      `The staged image could not be read: ${(error as Error).name}`,
      { cause: error },
    );
  }
};
