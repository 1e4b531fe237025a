/**
 * The HTTP body for a finished batch. /shape and /nbytes answer as the original service did:
 * a list (one entry per `image` part, `[]` for an unreadable image) for a form, the bare value
 * for a raw upload. /analyze gives the full record per image, by the same rule.
 *
 * `[]` means "not an image", nothing else: when the platform failed to analyze an image
 * (storage, invocation), /shape and /nbytes refuse the whole batch as retryable (503) rather
 * than answer something half true, and when our own analysis crashed on one (a defect) they
 * refuse it as an internal error (500); /analyze keeps the records as they are.
 */
import {
  type BatchOutput,
  errorOf,
  isRetryable,
  type ResultRecord,
  type View,
} from '../shared/workflow.ts';
import { ImagesNotAnalyzedError, ImagesUnavailableError } from './errors.ts';

/** The workflow's records carry what their view renders (workflow.ts, recordFor): a failed
 * record has no value, and answers `[]`. Also a large batch's analyzed records
 * (batch-results.ts). */
export const valueFor: Record<View, (record: ResultRecord) => unknown> = {
  shape: (r) => ('shape' in r ? r.shape : []),
  nbytes: (r) => ('nbytes' in r ? r.nbytes : []),
  analyze: (r) => r,
};

/** A record of an analysis that crashed rather than found the image unreadable. */
const crashed = (record: ResultRecord) =>
  errorOf(record)?.code === 'ANALYSIS_FAILED' && !isRetryable(record);

/** The body; for /shape and /nbytes, ImagesNotAnalyzedError (500) when an analysis crashed,
 * else ImagesUnavailableError (503) when the platform failed an image. */
export const renderBatch = ({ request, results }: BatchOutput): unknown => {
  const records = [...results].sort((a, b) => a.index - b.index);
  if (request.view !== 'analyze') {
    const defects = records.filter(crashed).map((r) => r.index);
    if (defects.length) throw new ImagesNotAnalyzedError(defects);
    const unavailable = records.filter(isRetryable).map((r) => r.index);
    if (unavailable.length) throw new ImagesUnavailableError(unavailable);
  }
  const values = records.map(valueFor[request.view]);
  return request.multipart ? values : values[0];
};
