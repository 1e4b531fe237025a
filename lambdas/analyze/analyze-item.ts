import type { S3Client } from '@aws-sdk/client-s3';
import type { AnalysisRecord, MapItem } from '../shared/types.ts';
import { analyzeImage } from './analysis.ts';
import { deleteStaged, loadSource, SourceUnavailableError } from './source.ts';

export interface AnalyzeItemDeps {
  s3: S3Client;
  /** Told when a staged image could not be deleted (the lifecycle rule will). */
  onDeleteFailed?: (error: unknown) => void;
}

/** One Map item in, one record out, carrying the item's identity so results can be matched
 * to uploads whatever order the Map ran them in. A staged image is deleted once analysed:
 * the claim-check lives no longer than the work that needed it. */
export const analyzeItem = async (
  item: MapItem,
  { s3, onDeleteFailed }: AnalyzeItemDeps,
): Promise<AnalysisRecord> => {
  const identity = {
    index: item.index,
    name: item.name,
    filename: item.filename,
    contentType: item.contentType,
  };
  let bytes: Uint8Array;
  try {
    bytes = await loadSource(item.source, s3);
  } catch (error) {
    if (!(error instanceof SourceUnavailableError)) throw error;
    return { ...identity, bytes: 0, error: { code: 'SOURCE_UNAVAILABLE', message: error.message } };
  }
  try {
    return { ...identity, ...(await analyzeImage(bytes)) };
  } finally {
    if ('s3' in item.source) await deleteStaged(item.source.s3, s3).catch(onDeleteFailed);
  }
};
