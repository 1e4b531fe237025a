/**
 * The HTTP body for a finished batch. /shape and /nbytes answer as the original service did:
 * a list (one entry per `image` part, `[]` for an unreadable image) for a form, the bare value
 * for a raw upload. /analyze gives the full record per image, by the same rule.
 */
import { type AnalysisRecord, isFailure } from '../shared/types.ts';
import type { View } from './routes.ts';

export interface BatchRequest {
  view: View;
  multipart: boolean;
}

/** What the workflow's last state ("Collect results") returns. */
export interface BatchOutput {
  request: BatchRequest;
  imageCount: number;
  results: AnalysisRecord[];
}

const pick: Record<View, (record: AnalysisRecord) => unknown> = {
  shape: (r) => (isFailure(r) ? [] : r.shape),
  nbytes: (r) => (isFailure(r) ? [] : r.nbytes),
  analyze: (r) => r,
};

export const renderBatch = ({ request, results }: BatchOutput): unknown => {
  const values = [...results].sort((a, b) => a.index - b.index).map(pick[request.view]);
  return request.multipart ? values : values[0];
};
