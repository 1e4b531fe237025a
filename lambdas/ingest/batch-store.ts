/**
 * Where a large batch lives between calls: S3 only, no database. Under `batches/<id>/` its
 * declaration (`batch.json`), its uploads (`uploads/<index>`, one object per image) and the
 * manifest the Distributed Map reads (`manifest.jsonl`); under `results/<id>/` what the
 * workflow's ResultWriter writes and the records of images never uploaded
 * (`not-uploaded.json`). The bucket's lifecycle rules expire `batches/` after a day (uploads
 * the workflow did not delete, batches never started) and keep `results/` for a week.
 */
import {
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { View } from '../shared/workflow.ts';
import { NotFoundError } from './errors.ts';

export const BATCHES_PREFIX = 'batches/';
export const RESULTS_PREFIX = 'results/';

export const batchKeys = (id: string) => ({
  declaration: `${BATCHES_PREFIX}${id}/batch.json`,
  uploads: `${BATCHES_PREFIX}${id}/uploads/`,
  upload: (index: number) => `${BATCHES_PREFIX}${id}/uploads/${index}`,
  manifest: `${BATCHES_PREFIX}${id}/manifest.jsonl`,
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

/** What POST /batches stored. */
export interface Declaration {
  view: View;
  createdAt: string;
  images: DeclaredImage[];
}

export const putJson = (s3: S3Client, bucket: string, key: string, body: string) =>
  s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: body,
      ContentType: 'application/json',
      ServerSideEncryption: 'AES256',
    }),
  );

/** An object's JSON, or undefined when there is none. */
export const getJson = async <T>(s3: S3Client, bucket: string, key: string) => {
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return JSON.parse((await object.Body?.transformToString()) ?? '') as T;
  } catch (error) {
    if ((error as Error).name === 'NoSuchKey') return undefined;
    throw error;
  }
};

export const readDeclaration = async (s3: S3Client, bucket: string, id: string) => {
  const declaration = BATCH_ID.test(id)
    ? await getJson<Declaration>(s3, bucket, batchKeys(id).declaration)
    : undefined;
  if (!declaration) throw new NotFoundError(`Unknown batch: ${id}`);
  return declaration;
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
      const index = Number(Key?.slice(prefix.length));
      if (Number.isInteger(index)) found.add(index);
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return found;
};
