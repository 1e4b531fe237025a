/**
 * The claim-check. Step Functions carries at most 256 KiB per state, so a batch whose inline
 * input would pass the budget has its largest images staged in S3 and referenced by key; small
 * batches never touch storage. Keys are unguessable (the execution name is a random UUID) and
 * scoped to one execution; the analyser deletes each object once it has read it, and the
 * bucket's lifecycle rule removes anything a crash left behind.
 */
import { DeleteObjectsCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { MapItem } from '../shared/types.ts';
import type { Upload } from './uploads.ts';

export const STAGING_PREFIX = 'staging/';

export interface StagedImage {
  key: string;
  upload: Upload;
}

export interface BatchPlan {
  items: MapItem[];
  staged: StagedImage[];
}

const jsonBytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value));
const base64Length = (bytes: number) => 4 * Math.ceil(bytes / 3);
/** `{"inline":""}` around the base64, and `,"source":` before it, in an item's JSON. */
const INLINE_SOURCE_BYTES = '{"inline":""}'.length;
const SOURCE_KEY_BYTES = ',"source":'.length;

export const stagingKey = (executionName: string, index: number) =>
  `${STAGING_PREFIX}${executionName}/${index}`;

/** Keeps everything inline when it fits; otherwise stages the largest images until the rest
 * does, so a batch of one big photo and many thumbnails stores one object, not all of them.
 * Sizes are those of the items' JSON, computed without encoding anything. */
export const planBatch = (
  uploads: Upload[],
  {
    budgetBytes,
    bucket,
    executionName,
  }: { budgetBytes: number; bucket: string; executionName: string },
): BatchPlan => {
  const identities = uploads.map((upload, index) => ({
    index,
    name: upload.name,
    filename: upload.filename,
    contentType: upload.contentType,
  }));
  const keys = identities.map(({ index }) => stagingKey(executionName, index));
  // What staging an image saves: its base64, less the reference that replaces it.
  const savings = uploads.map(
    (upload, i) =>
      base64Length(upload.content.length) +
      INLINE_SOURCE_BYTES -
      jsonBytes({ s3: { bucket, key: keys[i] } }),
  );
  let total = identities.reduce(
    (sum, identity, i) =>
      sum +
      jsonBytes(identity) +
      SOURCE_KEY_BYTES +
      base64Length(uploads[i]?.content.length ?? 0) +
      INLINE_SOURCE_BYTES +
      1,
    0,
  );
  const stage = new Set<number>();
  const bySaving = savings
    .map((saving, index) => ({ saving, index }))
    .sort((a, b) => b.saving - a.saving);
  for (const { saving, index } of bySaving) {
    if (total <= budgetBytes) break;
    stage.add(index);
    total -= saving;
  }

  const staged: StagedImage[] = [];
  const items = uploads.map((upload, index): MapItem => {
    const identity = identities[index] as Omit<MapItem, 'source'>;
    if (!stage.has(index)) {
      return { ...identity, source: { inline: upload.content.toString('base64') } };
    }
    const key = keys[index] as string;
    staged.push({ key, upload });
    return { ...identity, source: { s3: { bucket, key } } };
  });
  return { items, staged };
};

/** Uploads the staged images, encrypted at rest (SSE-S3), all at once. */
export const stageImages = async (s3: S3Client, bucket: string, staged: StagedImage[]) => {
  await Promise.all(
    staged.map(({ key, upload }) =>
      s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: upload.content,
          ContentType: upload.contentType ?? 'application/octet-stream',
          ServerSideEncryption: 'AES256',
        }),
      ),
    ),
  );
};

/** Removes staged images no workflow will read (it did not start, or it failed). Never throws:
 * the lifecycle rule is the backstop. */
export const discardStaged = async (s3: S3Client, bucket: string, staged: StagedImage[]) => {
  if (staged.length === 0) return { deleted: 0 };
  try {
    const result = await s3.send(
      new DeleteObjectsCommand({
        Bucket: bucket,
        Delete: { Objects: staged.map(({ key }) => ({ Key: key })), Quiet: true },
      }),
    );
    return { deleted: staged.length - (result.Errors?.length ?? 0) };
  } catch (error) {
    return { deleted: 0, error };
  }
};
