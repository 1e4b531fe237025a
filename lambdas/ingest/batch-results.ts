/**
 * A large batch's records, read back from S3: the ResultWriter's files (its manifest.json
 * names SUCCEEDED_n.json and FAILED_n.json, each a list of child executions) and the records of
 * the images never uploaded, put in upload order and shaped by the batch's view.
 * https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html
 */
import type { S3Client } from '@aws-sdk/client-s3';
import {
  type BatchRecord,
  type ItemBatch,
  identityOf,
  type NotUploadedRecord,
  type View,
} from '../shared/workflow.ts';
import { getJson } from './batch-store.ts';

interface ResultManifest {
  ResultFiles: Partial<Record<'SUCCEEDED' | 'FAILED' | 'PENDING', { Key: string }[]>>;
}

/** A child execution as a result file holds it: Output when it succeeded, Error otherwise. */
interface ChildResult {
  Input: string;
  Output?: string;
  Error?: string;
}

/** A child that failed as a whole (timed out, a runtime error) ran none of its Catch: each of
 * its images is a retryable failure, as the workflow itself records a failed batch. */
const failedChild = (child: ChildResult): BatchRecord[] =>
  (JSON.parse(child.Input) as ItemBatch).Items.map((item) => ({
    ...identityOf(item),
    bytes: item.size,
    error: {
      code: 'ANALYSIS_FAILED',
      message: `The analysis of this image failed (${child.Error ?? 'unknown error'}).`,
      retryable: true,
    },
  }));

/** Every record of the batch, in upload order. */
export const readRecords = async (
  s3: S3Client,
  {
    bucket,
    manifestKey,
    notUploadedKey,
  }: {
    bucket: string;
    manifestKey: string;
    notUploadedKey: string;
  },
): Promise<BatchRecord[]> => {
  const manifest = await getJson<ResultManifest>(s3, bucket, manifestKey);
  if (!manifest) throw new Error(`The results manifest ${manifestKey} is missing`);
  const records: BatchRecord[] = [];
  const read = async (kind: 'SUCCEEDED' | 'FAILED', each: (c: ChildResult) => BatchRecord[]) => {
    for (const { Key } of manifest.ResultFiles[kind] ?? []) {
      for (const child of (await getJson<ChildResult[]>(s3, bucket, Key)) ?? [])
        records.push(...each(child));
    }
  };
  await read('SUCCEEDED', (child) => JSON.parse(child.Output ?? '[]') as BatchRecord[]);
  await read('FAILED', failedChild);
  records.push(...((await getJson<NotUploadedRecord[]>(s3, bucket, notUploadedKey)) ?? []));
  return records.sort((a, b) => a.index - b.index);
};

const hasError = (record: BatchRecord): record is Extract<BatchRecord, { error: unknown }> =>
  'error' in record;

/** One record as POST /shape, /nbytes or /analyze shape it. Not analyzed at all (never
 * uploaded, or the platform failed) is not "not an image": /shape and /nbytes give the error
 * there instead of `[]`. */
export const renderRecord = (view: View, record: BatchRecord): unknown => {
  if (view === 'analyze') return record;
  if (!hasError(record)) return view === 'shape' ? record.shape : record.nbytes;
  const { error } = record;
  return error.code === 'NOT_UPLOADED' || error.retryable === true ? { error } : [];
};
