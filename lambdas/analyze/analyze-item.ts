import type { S3Client } from '@aws-sdk/client-s3';
import {
  type AnalysisRecord,
  type AnalyzeEvent,
  identityOf,
  isItemBatch,
  type MapItem,
} from '../shared/workflow.ts';
import { analyzeImage } from './analysis.ts';
import { readStaged } from './source.ts';

export interface AnalyzeItemDeps {
  s3: S3Client;
  now?: () => number;
}

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
  const identity = identityOf(item);
  if (item.deadline !== null && now() > item.deadline) {
    return {
      ...identity,
      bytes: item.size,
      error: {
        code: 'DEADLINE_EXCEEDED',
        message: 'Not analyzed: the request had already been answered.',
        retryable: true,
      },
    };
  }
  return { ...identity, ...(await analyzeImage(await readStaged(item, s3))) };
};

/** An inline Map's single item, or a Distributed Map's batch of them (in order). */
export const analyzeEvent = async (
  event: AnalyzeEvent,
  deps: AnalyzeItemDeps,
): Promise<AnalysisRecord | AnalysisRecord[]> => {
  if (!isItemBatch(event)) return analyzeItem(event, deps);
  const records: AnalysisRecord[] = [];
  // One at a time: the function's memory is sized for one decode.
  for (const item of event.Items) records.push(await analyzeItem(item, deps));
  return records;
};
