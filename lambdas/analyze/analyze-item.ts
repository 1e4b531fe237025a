import type { S3Client } from '@aws-sdk/client-s3';
import {
  type AnalysisRecord,
  type AnalyzeEvent,
  identityOf,
  isItemBatch,
  type MapItem,
} from '../shared/workflow.ts';
import { analyzeImage } from './analysis.ts';
import { deleteStaged, readStaged } from './source.ts';

export interface AnalyzeItemDeps {
  s3: S3Client;
  /** Told when a staged image could not be deleted (the lifecycle rule will). */
  onDeleteFailed?: (error: unknown) => void;
  now?: () => number;
}

/**
 * One Map item in, one record out, carrying the item's identity so results can be matched to
 * uploads whatever order the Map ran them in. The staged image is deleted once read (or once
 * skipped): it lives no longer than the work that needed it. When it cannot be read, the
 * error is thrown, and the object kept, so that the workflow's retry can read it.
 */
export const analyzeItem = async (
  item: MapItem,
  { s3, onDeleteFailed, now = Date.now }: AnalyzeItemDeps,
): Promise<AnalysisRecord> => {
  const identity = identityOf(item);
  const discard = () => deleteStaged(item.object, s3).catch(onDeleteFailed);
  if (item.deadline !== null && now() > item.deadline) {
    await discard();
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
  const bytes = await readStaged(item.object, s3);
  try {
    return { ...identity, ...(await analyzeImage(bytes)) };
  } finally {
    await discard();
  }
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
