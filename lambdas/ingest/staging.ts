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

/** What an item adds to the input besides its base64: keys, names, punctuation. */
const ITEM_OVERHEAD_BYTES = 200;
const base64Length = (bytes: number) => 4 * Math.ceil(bytes / 3);
const textBytes = (value: string | null) => (value ? Buffer.byteLength(value) : 0);

const inlineCost = (upload: Upload) =>
  base64Length(upload.content.length) +
  textBytes(upload.filename) +
  textBytes(upload.contentType) +
  ITEM_OVERHEAD_BYTES;

export const stagingKey = (executionName: string, index: number) =>
  `${STAGING_PREFIX}${executionName}/${index}`;

/** Keeps everything inline when it fits; otherwise stages the largest images until the rest
 * does, so a batch of one big photo and many thumbnails stores one object, not all of them. */
export const planBatch = (
  uploads: Upload[],
  {
    budgetBytes,
    bucket,
    executionName,
  }: { budgetBytes: number; bucket: string; executionName: string },
): BatchPlan => {
  const costs = uploads.map(inlineCost);
  let total = costs.reduce((sum, c) => sum + c, 0);
  const stage = new Set<number>();
  const bySize = costs.map((cost, index) => ({ cost, index })).sort((a, b) => b.cost - a.cost);
  for (const { cost, index } of bySize) {
    if (total <= budgetBytes) break;
    stage.add(index);
    total -= cost - ITEM_OVERHEAD_BYTES;
  }

  const staged: StagedImage[] = [];
  const items = uploads.map((upload, index): MapItem => {
    const identity = {
      index,
      name: upload.name,
      filename: upload.filename,
      contentType: upload.contentType,
    };
    if (!stage.has(index)) {
      return { ...identity, source: { inline: upload.content.toString('base64') } };
    }
    const key = stagingKey(executionName, index);
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
