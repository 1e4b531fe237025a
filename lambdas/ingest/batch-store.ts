/**
 * Where a large batch lives between calls: S3 only, no database. Under `batches/<id>/` its
 * declaration (`batch.json`), its uploads (`uploads/<index>`, one object per image) and the
 * manifest the Distributed Map reads (`manifest.jsonl`); under `results/<id>/` what the
 * workflow's ResultWriter writes and the records of images never uploaded
 * (`not-uploaded.json`). The bucket's lifecycle rules expire `batches/` after a day (uploads
 * the workflow did not delete, batches never started) and keep `results/` for a week.
 */
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { View } from '../shared/workflow.ts';
import { NotFoundError } from './errors.ts';

const BATCHES_PREFIX = 'batches/';
const RESULTS_PREFIX = 'results/';

export const batchKeys = (id: string) => ({
  declaration: `${BATCHES_PREFIX}${id}/batch.json`,
  uploads: `${BATCHES_PREFIX}${id}/uploads/`,
  upload: (index: number) => `${BATCHES_PREFIX}${id}/uploads/${index}`,
  manifest: `${BATCHES_PREFIX}${id}/manifest.jsonl`,
  /** Written by DELETE /batches/{id}: the batch is cancelled (and stays so while it is there). */
  cancelled: `${BATCHES_PREFIX}${id}/cancelled.json`,
  /** Everything the batch holds under `batches/` (the results are under `results/`). */
  all: `${BATCHES_PREFIX}${id}/`,
  results: `${RESULTS_PREFIX}${id}`,
  notUploaded: `${RESULTS_PREFIX}${id}/not-uploaded.json`,
});

/** Batch ids are random UUIDs (also the execution's name): anything else is unknown. */
export const BATCH_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface DeclaredImage {
  filename: string | null;
  contentType: string;
  bytes: number;
}

/** The identity a declared image's records carry (its manifest item, a record of it not
 * analyzed): a large batch's images come with no form field name. */
export const declaredIdentity = ({ filename, contentType }: DeclaredImage, index: number) => ({
  index,
  name: null,
  filename,
  contentType,
});

/** What POST /batches stored. */
export interface Declaration {
  view: View;
  createdAt: string;
  images: DeclaredImage[];
}

/** A JSON object of the service's own, encrypted at rest like the images (SSE-S3). */
const jsonObject = (bucket: string, key: string, body: string) => ({
  Bucket: bucket,
  Key: key,
  Body: body,
  ContentType: 'application/json',
  ServerSideEncryption: 'AES256' as const,
});

export const putJson = (s3: S3Client, bucket: string, key: string, body: string) =>
  s3.send(new PutObjectCommand(jsonObject(bucket, key, body)));

/** Writes the object unless it exists (S3's conditional write, `If-None-Match: *`): true when
 * this call wrote it, false when it was already there (412 PreconditionFailed); the object is
 * then left as it was. https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html */
export const putJsonOnce = async (s3: S3Client, bucket: string, key: string, body: string) => {
  try {
    await s3.send(new PutObjectCommand({ ...jsonObject(bucket, key, body), IfNoneMatch: '*' }));
    return true;
  } catch (error) {
    if ((error as Error).name === 'PreconditionFailed') return false;
    throw error;
  }
};

/** An object's text, or undefined when there is none. */
export const getText = async (s3: S3Client, bucket: string, key: string) => {
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return (await object.Body?.transformToString()) ?? '';
  } catch (error) {
    if ((error as Error).name === 'NoSuchKey') return undefined;
    throw error;
  }
};

/** An object's JSON, or undefined when there is none. Every object read here was written by
 * the service or the workflow: one that is not JSON (empty, cut short) is an internal fault,
 * named by its key, not a SyntaxError without context. */
export const getJson = async <T>(s3: S3Client, bucket: string, key: string) => {
  const text = await getText(s3, bucket, key);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch (cause) {
    throw new Error(`s3://${bucket}/${key} is not JSON (${text.length} bytes)`, { cause });
  }
};

export const readDeclaration = async (s3: S3Client, bucket: string, id: string) => {
  const declaration = BATCH_ID.test(id)
    ? await getJson<Declaration>(s3, bucket, batchKeys(id).declaration)
    : undefined;
  if (!declaration) throw new NotFoundError(`Unknown batch: ${id}`);
  return declaration;
};

/** The image index of an `uploads/<index>` key, or undefined for any other key. Number('') is
 * 0, so the prefix itself (or `uploads/ 1`) must not count as an image. */
const uploadIndexOf = (id: string, key: string) => {
  const { uploads } = batchKeys(id);
  const rest = key.startsWith(uploads) ? key.slice(uploads.length) : '';
  return /^\d+$/.test(rest) ? Number(rest) : undefined;
};

/** The indexes of the images uploaded so far (ListObjectsV2, 1,000 keys a call). A presigned
 * POST's policy only lets an object of the declared size and type in, so being there is
 * enough. */
export const uploadedIndexes = async (s3: S3Client, bucket: string, id: string) => {
  const prefix = batchKeys(id).uploads;
  const found = new Set<number>();
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const { Key } of page.Contents ?? []) {
      const index = uploadIndexOf(id, Key ?? '');
      if (index !== undefined) found.add(index);
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return found;
};

/** What DELETE /batches/{id} leaves of a batch: when it was cancelled. */
export interface Cancellation {
  cancelledAt: string;
}

export const readCancellation = (s3: S3Client, bucket: string, id: string) =>
  getJson<Cancellation>(s3, bucket, batchKeys(id).cancelled);

/** Marks the batch cancelled, once: a second call keeps the first one's time. */
export const markCancelled = async (s3: S3Client, bucket: string, id: string) => {
  const key = batchKeys(id).cancelled;
  const now: Cancellation = { cancelledAt: new Date().toISOString() };
  if (await putJsonOnce(s3, bucket, key, JSON.stringify(now))) return now;
  return (await getJson<Cancellation>(s3, bucket, key)) ?? now;
};

/** Deletes one page (up to 1,000 keys: ListObjectsV2's page and DeleteObjects' limit) of what
 * the batch holds under `batches/<id>/`, the cancellation mark excepted. Each page is listed
 * from the start, since what was listed before is gone. Answers the uploaded images deleted
 * and whether anything is left.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html */
export const deleteBatchPage = async (s3: S3Client, bucket: string, id: string) => {
  const keys = batchKeys(id);
  const page = await s3.send(
    new ListObjectsV2Command({ Bucket: bucket, Prefix: keys.all, MaxKeys: 1000 }),
  );
  const doomed = (page.Contents ?? [])
    .map((o) => o.Key ?? '')
    .filter((key) => key !== '' && key !== keys.cancelled);
  if (doomed.length > 0) {
    const { Errors } = await s3.send(
      new DeleteObjectsCommand({
        Bucket: bucket,
        Delete: { Objects: doomed.map((Key) => ({ Key })), Quiet: true },
      }),
    );
    // Quiet mode answers only the keys it failed on: the page is not done.
    if (Errors?.length)
      throw new Error(
        `S3 did not delete ${Errors.length} objects of batch ${id} (${Errors[0]?.Code}: ${Errors[0]?.Key})`,
      );
  }
  const images = doomed.filter((key) => uploadIndexOf(id, key) !== undefined).length;
  return { images, more: page.IsTruncated === true };
};
