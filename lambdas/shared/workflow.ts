/**
 * The workflow contract, in one place: what the ingest starts an execution with, what the Map
 * hands each analysis invocation, what comes back. The ASL file (statemachine/) moves these
 * objects around by JSONPath, so changing a field here means checking it too.
 *
 * References, not bytes: an item names its image's staged object and never carries the image,
 * so execution input, history and logs stay small and hold no user content.
 */
import { type ImageAnalysis, isFailure } from './types.ts';

export const VIEWS = ['shape', 'nbytes', 'analyze'] as const;
export type View = (typeof VIEWS)[number];

/** How the request asked for its answer. */
export interface BatchRequest {
  view: View;
  /** A form (answered with a list) or a raw body (answered with the bare value). */
  multipart: boolean;
}

/** Where a request's images wait for their analysis: one object of the staging bucket, the
 * images one after another (one PUT per request; S3 bills a PUT more than a request's whole
 * path through the workflow). Each item reads its byte range of it. */
export interface StagedObject {
  bucket: string;
  key: string;
}

/** Who an image is: what it was sent as. Every key is always present (null when unknown),
 * because JSONPath in the workflow's Catch branches fails on a missing key. */
export interface ImageIdentity {
  /** Position in the request, from 0: results are matched to uploads by it. */
  index: number;
  /** The form field ("image"), or null for a raw body. */
  name: string | null;
  filename: string | null;
  contentType: string | null;
}

/** One element of the Map state's items. */
export interface MapItem extends ImageIdentity {
  /** Size of the upload in bytes. */
  size: number;
  /** The request's staged object, and where in it this image starts: its bytes are
   * [offset, offset + size). */
  object: StagedObject;
  offset: number;
  /** Epoch milliseconds after which nobody waits for this image (the synchronous caller has
   * been answered 504), or null when someone will poll. An Express run cannot be stopped, so
   * the analyzer itself skips items past it. */
  deadline: number | null;
}

/** The execution input the ingest starts both twins with. */
export interface ExecutionInput {
  request: BatchRequest;
  /** The object every item points into; the workflow deletes it once the Map is done. */
  staged: StagedObject;
  /** The request's images in upload order, cut into chunks (see "Chunks" below). */
  chunks: Chunk[];
}

/** A Distributed Map with an ItemBatcher hands the function several items at once, with the
 * batch's shared input beside them; the analyzer answers such an event with one record per
 * item, in order. https://docs.aws.amazon.com/step-functions/latest/dg/input-output-itembatcher.html */
export interface ItemBatch {
  Items: MapItem[];
  BatchInput?: unknown;
}

/** What the analysis Lambda is invoked with. */
export type AnalyzeEvent = MapItem | ItemBatch;

export const isItemBatch = (event: AnalyzeEvent): event is ItemBatch =>
  Array.isArray((event as ItemBatch).Items);

/** One element of the workflow's results: the item's identity plus its analysis. */
export type AnalysisRecord = ImageIdentity & ImageAnalysis;

/** What the workflow's last state ("Collect results") returns. */
export interface BatchOutput {
  request: BatchRequest;
  imageCount: number;
  results: AnalysisRecord[];
}

export const identityOf = ({ index, name, filename, contentType }: ImageIdentity) => ({
  index,
  name,
  filename,
  contentType,
});

/** A record whose image was not analyzed for a reason of the platform (storage, invocation,
 * deadline): the image may be fine, and sending it again may succeed. Never `[]`. */
export const isRetryable = (record: AnalysisRecord): boolean =>
  isFailure(record) && record.error.retryable === true;

/** The large-batch workflow's input (statemachine/large-batch.asl.json): where its manifest of
 * MapItems is (JSONL, one per uploaded image) and where its ResultWriter writes. The rest is
 * for the ingest, which reads it back from DescribeExecution to render the results. */
export interface LargeBatchInput {
  manifest: StagedObject;
  results: { bucket: string; prefix: string };
  /** The ItemBatcher's MaxItemsPerBatchPath: images per analysis invocation. */
  batching: { maxItems: number };
  view: View;
  /** Images declared. */
  images: number;
  /** Declared images that were not uploaded when the batch started (not in the manifest). */
  notUploaded: number;
}

/** The record of a declared image that was never uploaded: not analyzed, and not an image's
 * own error. Written by the ingest beside the ResultWriter's files. */
export interface NotUploadedRecord extends ImageIdentity {
  bytes: number;
  error: { code: 'NOT_UPLOADED'; message: string; retryable: false };
}

/** One record of a large batch's results. */
export type BatchRecord = AnalysisRecord | NotUploadedRecord;

// ── Chunks (issue 9): the Map of analyze-batch iterates over chunks, not images ──────────

/**
 * One iteration of analyze-batch's Map: consecutive images of the request, analyzed by one
 * invocation that reads all their bytes with one ranged GET (they are contiguous in the
 * staged object). Fewer invocations, GETs, state transitions and logged events than one
 * iteration per image. The shape of an ItemBatcher batch, so the analyzer answers both alike:
 * one record per item, in order. The ingest cuts them (lambdas/ingest/staging.ts).
 */
export interface Chunk {
  Items: MapItem[];
}
