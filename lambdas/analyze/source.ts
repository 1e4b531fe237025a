import { DeleteObjectCommand, GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ImageSource } from '../shared/types.ts';

/** A staged image could not be read (gone, or S3 refused): reported per image, not thrown
 * at the batch. */
export class SourceUnavailableError extends Error {
  override name = 'SourceUnavailableError';
}

/** The image bytes of one Map item, inline (base64) or from the claim-check bucket. */
export const loadSource = async (source: ImageSource, s3: S3Client): Promise<Uint8Array> => {
  if ('inline' in source) return Buffer.from(source.inline, 'base64');
  const { bucket, key } = source.s3;
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    if (!object.Body) throw new Error('empty response body');
    return await object.Body.transformToByteArray();
  } catch (error) {
    throw new SourceUnavailableError(
      `The staged image could not be read: ${(error as Error).name}`,
      {
        cause: error,
      },
    );
  }
};

export const deleteStaged = async (
  { bucket, key }: { bucket: string; key: string },
  s3: S3Client,
) => {
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
};
