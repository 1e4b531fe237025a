import { DeleteObjectCommand, GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { StagedObject } from '../shared/workflow.ts';

/**
 * A staged image could not be read (S3 refused, timed out, or the object is gone). Thrown out
 * of the invocation on purpose: the workflow retries it by this name with backoff, then
 * records the image as a retryable platform failure — never as "not an image".
 */
export class StagedImageUnavailableError extends Error {
  override name = 'StagedImageUnavailable';
}

/** The bytes of one staged image. */
export const readStaged = async ({ bucket, key }: StagedObject, s3: S3Client) => {
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    if (!object.Body) throw new Error('empty response body');
    return await object.Body.transformToByteArray();
  } catch (error) {
    // The name of the S3 error (NoSuchKey, SlowDown, …) helps; its message may hold internals.
    throw new StagedImageUnavailableError(
      `The staged image could not be read: ${(error as Error).name}`,
      { cause: error },
    );
  }
};

export const deleteStaged = async ({ bucket, key }: StagedObject, s3: S3Client) => {
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
};
