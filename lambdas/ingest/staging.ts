/**
 * Staging: a request's images are written to the staging bucket once, as one object (the
 * images one after another), and the workflow carries only the key and each image's byte
 * range. One PUT per request rather than per image: S3 bills a PUT more than the rest of an
 * image's way through the service. Keys are unguessable (the execution name is a random UUID)
 * and scoped to one execution; the workflow deletes the object once every image is analyzed,
 * and the bucket's lifecycle rule removes anything a failed run left behind.
 */
import { DeleteObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { MapItem, StagedObject } from '../shared/workflow.ts';
import type { Upload } from './uploads.ts';

export const STAGING_PREFIX = 'staging/';

export const stagingKey = (executionName: string) => `${STAGING_PREFIX}${executionName}/images`;

/** The Map items of a batch: identity, size and where in the staged object each image is. */
export const itemsFor = (
  uploads: Upload[],
  { staged, deadline }: { staged: StagedObject; deadline: number | null },
): MapItem[] => {
  let offset = 0;
  return uploads.map((upload, index) => {
    const item: MapItem = {
      index,
      name: upload.name,
      filename: upload.filename,
      contentType: upload.contentType,
      size: upload.content.length,
      object: staged,
      offset,
      deadline,
    };
    offset += upload.content.length;
    return item;
  });
};

/** Writes the request's images as one object, encrypted at rest (SSE-S3). */
export const stageImages = async (s3: S3Client, staged: StagedObject, uploads: Upload[]) => {
  await s3.send(
    new PutObjectCommand({
      Bucket: staged.bucket,
      Key: staged.key,
      Body: Buffer.concat(uploads.map((u) => u.content)),
      ContentType: 'application/octet-stream',
      ServerSideEncryption: 'AES256',
    }),
  );
};

/** Removes the staged images when no workflow will (it did not start, failed, or was given
 * up on). Never throws: the lifecycle rule is the backstop. */
export const discardStaged = async (s3: S3Client, staged: StagedObject) => {
  try {
    await s3.send(new DeleteObjectCommand({ Bucket: staged.bucket, Key: staged.key }));
    return { deleted: true };
  } catch (error) {
    return { deleted: false, error };
  }
};
