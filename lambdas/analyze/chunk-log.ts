/**
 * What the analysis logs of one invocation: one line for its chunk (or Map item, or
 * ItemBatcher batch), not one per image — each line pays for the keys Powertools adds to it
 * (≈ 0.4 kB), and a line per image cost as much as the workflow's own logs. The line still
 * answers for every image: which indexes were read, by format, and every failure in full.
 * The shapes are not repeated here: the workflow's logged output holds them. Never a byte of
 * an image: indexes, sizes, formats, codes and our own error messages.
 */
import { isFailure } from '../shared/types.ts';
import type { AnalysisRecord } from '../shared/workflow.ts';

export interface ChunkSummary {
  images: number;
  /** The chunk's uploaded bytes, summed. */
  bytes: number;
  /** The invocation's time, and each image's share of it (a chunk's images are analyzed
   * together, so none has a time of its own). */
  durationMs: number;
  msPerImage: number;
  /** The indexes of the images read, by format: `{ "png": [0, 2], "jpeg": [1] }`. */
  analyzed: Record<string, number[]>;
  /** The images that were not, each whole: index, size and error (code, message…). */
  failed: Pick<Extract<AnalysisRecord, { error: unknown }>, 'index' | 'bytes' | 'error'>[];
}

export const summarizeChunk = (
  records: readonly AnalysisRecord[],
  durationMs: number,
): ChunkSummary => {
  const analyzed: Record<string, number[]> = {};
  const failed: ChunkSummary['failed'] = [];
  for (const record of records) {
    if (isFailure(record)) {
      failed.push({ index: record.index, bytes: record.bytes, error: record.error });
      continue;
    }
    const indexes = analyzed[record.format] ?? [];
    indexes.push(record.index);
    analyzed[record.format] = indexes;
  }
  return {
    images: records.length,
    bytes: records.reduce((sum, r) => sum + r.bytes, 0),
    durationMs: Math.round(durationMs),
    msPerImage: Math.round(durationMs / Math.max(1, records.length)),
    analyzed,
    failed,
  };
};
