import type { S3Client } from '@aws-sdk/client-s3';
import type { AnalysisRecord, MapItem } from '../shared/types.ts';
import { analyzeImage } from './analysis.ts';
import { loadSource, SourceUnavailableError } from './source.ts';

export interface AnalyzeItemDeps {
  s3: S3Client;
}

/** One Map item in, one record out, carrying the item's identity so results can be matched
 * to uploads whatever order the Map ran them in. */
export const analyzeItem = async (
  item: MapItem,
  { s3 }: AnalyzeItemDeps,
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
  return { ...identity, ...(await analyzeImage(bytes)) };
};
