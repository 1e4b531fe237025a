/**
 * A large batch's records, read back from S3: the ResultWriter's files (its manifest.json
 * names SUCCEEDED_n.json and FAILED_n.json, each a list of child executions, inputs included:
 * ~65 MB for 100,000 images) and the records of the images never uploaded, put in upload order
 * and shaped by the batch's view. The first page asked for reads them all once and writes the
 * records in upload order as pages of 1,000 (`results/<id>/pages/<n>.json`); every page after
 * that reads one or two of those.
 * https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { BATCH_LIMITS } from '../shared/config.ts';
import {
  type BatchRecord,
  type ItemBatch,
  identityOf,
  type NotUploadedRecord,
  type View,
} from '../shared/workflow.ts';
import { type DeclaredImage, declaredIdentity, getJson, putJson } from './batch-store.ts';
import { BatchResultsError } from './errors.ts';
import { valueFor } from './views.ts';

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
const readRecords = async (
  s3: S3Client,
  {
    bucket,
    manifestKey,
    notUploadedKey,
    unrun,
  }: {
    bucket: string;
    manifestKey: string;
    notUploadedKey: string;
    unrun?: () => Promise<DeclaredImage[]>;
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
  records.sort((a, b) => a.index - b.index);
  return unrun ? withUnrun(records, await unrun()) : records;
};

/** A failed run's images that no child reported (never started once the run gave up) are
 * retryable failures too, named from the declaration. */
const withUnrun = (records: BatchRecord[], declared: DeclaredImage[]): BatchRecord[] => {
  const seen = new Set(records.map((r) => r.index));
  declared.forEach((image, index) => {
    if (seen.has(index)) return;
    records.push({
      ...declaredIdentity(image, index),
      bytes: image.bytes,
      error: {
        code: 'ANALYSIS_FAILED',
        message: "The batch's run failed before this image was analyzed.",
        retryable: true,
      },
    });
  });
  return records.sort((a, b) => a.index - b.index);
};

const PAGE = BATCH_LIMITS.maxResultsPerPage;

export interface ResultsLocation {
  batchId: string;
  /** Images declared: every one has exactly one record, at the position of its index. */
  images: number;
  bucket: string;
  /** `results/<id>`: the ResultWriter's prefix, where the pages go too. */
  prefix: string;
  /** The ResultWriter's manifest.json (from the execution's output). */
  manifestKey: string;
  notUploadedKey: string;
  /** A FAILED run's declared images, to record those no child reported (see withUnrun). */
  unrun?: () => Promise<DeclaredImage[]>;
}

/** Writes the records as pages of 1,000, sixteen PUTs at a time; returns them. */
const writePages = async (s3: S3Client, where: ResultsLocation) => {
  const records = await readRecords(s3, where);
  if (records.length !== where.images)
    throw new BatchResultsError(
      where.batchId,
      `${records.length} records for ${where.images} declared images.`,
    );
  checkPositions(where, records, 0);
  const pages: BatchRecord[][] = [];
  for (let i = 0; i < records.length; i += PAGE) pages.push(records.slice(i, i + PAGE));
  for (let i = 0; i < pages.length; i += 16) {
    await Promise.all(
      pages
        .slice(i, i + 16)
        .map((page, j) =>
          putJson(s3, where.bucket, `${where.prefix}/pages/${i + j}.json`, JSON.stringify(page)),
        ),
    );
  }
  return pages;
};

/** Record n is image n's: a record missing or doubled would shift every answer after it. */
const checkPositions = (where: ResultsLocation, records: BatchRecord[], from: number) => {
  records.forEach((record, i) => {
    if (record.index !== from + i)
      throw new BatchResultsError(
        where.batchId,
        `the record at position ${from + i} is image ${record.index}'s.`,
      );
  });
};

/** Records [from, to) in upload order. Two requests racing both write the same pages. */
export const recordsBetween = async (
  s3: S3Client,
  where: ResultsLocation,
  from: number,
  to: number,
): Promise<BatchRecord[]> => {
  if (to <= from) return [];
  const first = Math.floor(from / PAGE);
  const wanted = [...Array(Math.floor((to - 1) / PAGE) - first + 1).keys()].map((k) => first + k);
  let pages = await Promise.all(
    wanted.map((k) => getJson<BatchRecord[]>(s3, where.bucket, `${where.prefix}/pages/${k}.json`)),
  );
  if (pages.some((page) => page === undefined)) {
    const all = await writePages(s3, where);
    pages = wanted.map((k) => all[k] ?? []);
  }
  const records = pages.flatMap((page) => page ?? []).slice(from - first * PAGE, to - first * PAGE);
  if (records.length !== to - from)
    throw new BatchResultsError(
      where.batchId,
      `${records.length} records where ${to - from} were expected from position ${from}.`,
    );
  checkPositions(where, records, from);
  return records;
};

const hasError = (record: BatchRecord): record is Extract<BatchRecord, { error: unknown }> =>
  'error' in record;

/** One record as POST /shape, /nbytes or /analyze shape it. Not analyzed at all (never
 * uploaded, the platform failed, or our analysis crashed) is not "not an image": /shape and
 * /nbytes give the error there instead of `[]`. */
export const renderRecord = (view: View, record: BatchRecord): unknown => {
  if (view === 'analyze') return record;
  if (!hasError(record)) return valueFor[view](record);
  const { error } = record;
  const notAnalyzed = error.code === 'NOT_UPLOADED' || error.code === 'ANALYSIS_FAILED';
  return notAnalyzed || error.retryable === true ? { error } : [];
};
