/**
 * Staging: every image is written once to the staging bucket and the workflow carries only its
 * key. Keys are unguessable (the execution name is a random UUID) and scoped to one execution;
 * the analyzer deletes each object once it has read it, and the bucket's lifecycle rule
 * removes anything a crash left behind.
 */
import { DeleteObjectsCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { MapItem } from '../shared/workflow.ts';
import type { Upload } from './uploads.ts';

export const STAGING_PREFIX = 'staging/';

export const stagingKey = (executionName: string, index: number) =>
  `${STAGING_PREFIX}${executionName}/${index}`;

/** The Map items of a batch: identity, size and where each image will be. */
export const itemsFor = (
  uploads: Upload[],
  {
    bucket,
    executionName,
    deadline,
  }: { bucket: string; executionName: string; deadline: number | null },
): MapItem[] =>
  uploads.map((upload, index) => ({
    index,
    name: upload.name,
    filename: upload.filename,
    contentType: upload.contentType,
    size: upload.content.length,
    object: { bucket, key: stagingKey(executionName, index) },
    deadline,
  }));

/** Writes every image, encrypted at rest (SSE-S3), all at once. */
export const stageImages = async (s3: S3Client, uploads: Upload[], items: MapItem[]) => {
  await Promise.all(
    items.map(({ index, object }) =>
      s3.send(
        new PutObjectCommand({
          Bucket: object.bucket,
          Key: object.key,
          Body: uploads[index]?.content,
          ContentType: uploads[index]?.contentType ?? 'application/octet-stream',
          ServerSideEncryption: 'AES256',
        }),
      ),
    ),
  );
};

/** Removes staged images no workflow will read (it did not start, it gave up, or the analyzer
 * could not). Never throws: the lifecycle rule is the backstop. */
export const discardStaged = async (s3: S3Client, items: MapItem[]) => {
  const bucket = items[0]?.object.bucket;
  if (!bucket) return { deleted: 0 };
  try {
    const result = await s3.send(
      new DeleteObjectsCommand({
        Bucket: bucket,
        Delete: { Objects: items.map(({ object }) => ({ Key: object.key })), Quiet: true },
      }),
    );
    return { deleted: items.length - (result.Errors?.length ?? 0) };
  } catch (error) {
    return { deleted: 0, error };
  }
};
