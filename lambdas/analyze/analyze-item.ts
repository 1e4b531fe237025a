import type { S3Client } from '@aws-sdk/client-s3';
import {
  type AnalysisRecord,
  type AnalyzeEvent,
  identityOf,
  isItemBatch,
  itemsOf,
  type MapItem,
  type ResultRecord,
  recordFor,
} from '../shared/workflow.ts';
import { analyzeImage } from './analysis.ts';
import { contiguousRuns, readStaged, spanOf } from './source.ts';

export interface AnalyzeItemDeps {
  s3: S3Client;
  now?: () => number;
}

const pastDeadline = (item: MapItem, now: () => number) =>
  item.deadline !== null && now() > item.deadline;

const skipped = (item: MapItem): AnalysisRecord => ({
  ...identityOf(item),
  bytes: item.size,
  error: {
    code: 'DEADLINE_EXCEEDED',
    message: 'Not analyzed: the request had already been answered.',
    retryable: true,
  },
});

/**
 * One Map item in, one record out, carrying the item's identity so results can be matched to
 * uploads whatever order the Map ran them in. The image is read from its byte range of the
 * request's staged object (which the workflow deletes once the Map is done). When it cannot
 * be read, the error is thrown so that the workflow retries.
 */
export const analyzeItem = async (
  item: MapItem,
  { s3, now = Date.now }: AnalyzeItemDeps,
): Promise<AnalysisRecord> => {
  if (pastDeadline(item, now)) return skipped(item);
  return { ...identityOf(item), ...(await analyzeImage(await readStaged(item, s3))) };
};

/**
 * How many of a chunk's images are analyzed at once. Not for the CPU (the function has one
 * vCPU): an analysis of a small image is largely hand-offs between JavaScript and libvips'
 * threads, which overlap (measured locally on 2 cores: the ten small images of the bench in
 * 17 ms four or more at a time, 32 ms one by one; under heavy load the round trip showed no
 * difference). Memory stays bounded: the ingest caps a chunk's declared pixels, and an image
 * past the cap is a chunk of its own.
 */
export const CHUNK_CONCURRENCY = 4;

/** A request's chunk is one contiguous run of its staged object, whose declared pixels the
 * ingest capped: its images may overlap. A Distributed Map's batch is one upload per image, of
 * up to 50 MB each, whose pixels nobody has bounded: one at a time, so that the function holds
 * one image's decoding budget (analysis.ts) at most, never four. */
export const concurrencyFor = (items: MapItem[]) =>
  contiguousRuns(items).length === 1 ? Math.min(CHUNK_CONCURRENCY, items.length) : 1;

/**
 * A chunk (or a Distributed Map's batch): one record per item, in order. Each run of
 * contiguous items is read with one GET, and only if one of its images is still awaited; the
 * deadline is checked before each image, so a chunk stops working once nobody waits. An image
 * whose analysis throws becomes its own failed record rather than failing its neighbors; a
 * failed read is thrown, for the workflow to retry the chunk.
 */
export const analyzeItems = async (
  items: MapItem[],
  { s3, now = Date.now }: AnalyzeItemDeps,
): Promise<AnalysisRecord[]> => {
  const reads = new Map<MapItem[], Promise<Uint8Array>>();
  const runOf = new Map<MapItem, MapItem[]>();
  for (const run of contiguousRuns(items)) for (const item of run) runOf.set(item, run);

  const analyzeOne = async (item: MapItem): Promise<AnalysisRecord> => {
    if (pastDeadline(item, now)) return skipped(item);
    const run = runOf.get(item) ?? [item];
    const span = spanOf(run);
    let read = reads.get(run);
    if (!read) {
      read = readStaged(span, s3);
      reads.set(run, read);
    }
    const bytes = await read;
    const start = item.offset - span.offset;
    return {
      ...identityOf(item),
      ...(await analyzeImage(bytes.subarray(start, start + item.size)).catch(crashed(item))),
    };
  };

  const records: AnalysisRecord[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) {
      const item = items[i];
      if (item) records[i] = await analyzeOne(item);
    }
  };
  await Promise.all(Array.from({ length: concurrencyFor(items) }, worker));
  return records;
};

/** What the workflow's "Record analysis failures" says of an invocation that crashed, said of
 * the one image that did. */
const crashed = (item: MapItem) => (error: unknown) => ({
  bytes: item.size,
  error: {
    code: 'ANALYSIS_FAILED' as const,
    message: `The analysis of this image failed (${(error as Error)?.name ?? 'Error'}).`,
    retryable: false,
  },
});

/** An inline Map's single item, or a chunk / Distributed Map batch of them (in order): the
 * full records, for the function's logs and metrics. */
export const analyzeEvent = async (
  event: AnalyzeEvent,
  deps: AnalyzeItemDeps,
): Promise<AnalysisRecord | AnalysisRecord[]> =>
  isItemBatch(event) ? analyzeItems(itemsOf(event), deps) : analyzeItem(event, deps);

/** What the invocation returns to the workflow: a batch's records cut to what the request's
 * view renders (its BatchInput names the view), since the workflow logs each several times. */
export const answerFor = (
  event: AnalyzeEvent,
  result: AnalysisRecord | AnalysisRecord[],
): ResultRecord | ResultRecord[] =>
  isItemBatch(event) && Array.isArray(result)
    ? result.map((record) => recordFor(event.BatchInput?.view, record))
    : result;
