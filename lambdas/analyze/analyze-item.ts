import type { S3Client } from '@aws-sdk/client-s3';
import {
  type AnalysisRecord,
  type AnalyzeEvent,
  identityOf,
  isItemBatch,
  type MapItem,
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
 * A chunk (or a Distributed Map's batch): one record per item, in order. Each run of
 * contiguous items is read with one GET, and only if one of its images is still awaited; the
 * deadline is checked before every image, so a chunk stops working once nobody waits. One
 * image at a time: the function's memory and its one vCPU are sized for one decode. An image
 * whose analysis throws becomes its own failed record rather than failing its neighbors; a
 * failed read is thrown, for the workflow to retry the chunk.
 */
export const analyzeItems = async (
  items: MapItem[],
  { s3, now = Date.now }: AnalyzeItemDeps,
): Promise<AnalysisRecord[]> => {
  const records: AnalysisRecord[] = [];
  for (const run of contiguousRuns(items)) {
    const span = spanOf(run);
    let bytes: Uint8Array | undefined;
    for (const item of run) {
      if (pastDeadline(item, now)) {
        records.push(skipped(item));
        continue;
      }
      bytes ??= await readStaged(span, s3);
      const start = item.offset - span.offset;
      records.push({
        ...identityOf(item),
        ...(await analyzeImage(bytes.subarray(start, start + item.size)).catch(crashed(item))),
      });
    }
  }
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

/** An inline Map's single item, or a chunk / Distributed Map batch of them (in order). */
export const analyzeEvent = async (
  event: AnalyzeEvent,
  deps: AnalyzeItemDeps,
): Promise<AnalysisRecord | AnalysisRecord[]> =>
  isItemBatch(event) ? analyzeItems(event.Items, deps) : analyzeItem(event, deps);
