/**
 * The workflow contract, in one place: what the ingest starts an execution with, what the Map
 * hands each analysis invocation, what comes back. The ASL file (statemachine/) moves these
 * objects around by JSONPath, so changing a field here means checking it too.
 *
 * References, not bytes: an item (or its chunk) names its image's staged object and never
 * carries the image, so execution input, history and logs stay small and hold no user content.
 * And each thing once: what the images of a chunk share is named once, and a record carries
 * only what the request's view renders, since every state's input and output is logged.
 */
import { type ImageAnalysis, type ImageError, isFailure } from './types.ts';

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

/** An image as a chunk lists it: who it is, its size, and where its bytes start in the
 * request's staged object, which the chunk names once (its BatchInput, see "Chunks" below). */
export interface ChunkItem extends ImageIdentity {
  /** Size of the upload in bytes. */
  size: number;
  /** Where in the staged object this image starts: its bytes are [offset, offset + size). */
  offset: number;
}

/** An image with everything its analysis needs: a large batch's manifest lists these (each
 * image its own object), and the analyzer resolves a chunk's items to them (itemsOf). */
export interface MapItem extends ChunkItem {
  object: StagedObject;
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
  /** The request's deadline (see MapItem), for all its images. */
  deadline: number | null;
  /** The request's images in upload order, cut into chunks (see "Chunks" below). */
  chunks: Chunk[];
}

/** What a batch of items shares, named once beside them rather than in every item (each copy
 * of an item is logged several times at level ALL). */
export interface SharedInput {
  /** The view the request renders: each record keeps only what it needs (recordFor). Absent:
   * full records. */
  view?: View;
  /** A chunk's staged object and deadline, for items that do not name their own. */
  object?: StagedObject;
  deadline?: number | null;
}

/** A Distributed Map with an ItemBatcher hands the function several items at once, with the
 * batch's shared input beside them; the analyzer answers such an event with one record per
 * item, in order. analyze-batch's Map hands it a chunk in the same shape (its ItemSelector
 * adds the BatchInput). https://docs.aws.amazon.com/step-functions/latest/dg/input-output-itembatcher.html */
export interface ItemBatch {
  Items: (MapItem | ChunkItem)[];
  BatchInput?: SharedInput;
}

/** What the analysis Lambda is invoked with. */
export type AnalyzeEvent = MapItem | ItemBatch;

export const isItemBatch = (event: AnalyzeEvent): event is ItemBatch =>
  Array.isArray((event as ItemBatch).Items);

/** A batch's items with their object and deadline, their own or the batch's. */
export const itemsOf = ({ Items, BatchInput: shared = {} }: ItemBatch): MapItem[] =>
  Items.map((item) => {
    const object = 'object' in item ? item.object : shared.object;
    if (!object) throw new TypeError(`Image ${item.index} names no staged object`);
    return { deadline: shared.deadline ?? null, ...item, object };
  });

/** One element of the workflow's results: the item's identity plus its analysis. */
export type AnalysisRecord = ImageIdentity & ImageAnalysis;

/** A record cut to what /shape or /nbytes render: the index (results are matched to uploads
 * by it) and the value, or the error (`[]`, or a 503 when retryable). */
export type ViewRecord = Pick<ImageIdentity, 'index'> &
  ({ shape: number[] } | { nbytes: number } | { error: ImageError });

/** What the workflow returns per image: the full record for /analyze (and where no view was
 * given), a ViewRecord for /shape and /nbytes. */
export type ResultRecord = AnalysisRecord | ViewRecord;

/**
 * The record the workflow carries for a view. Both workflows log every state's input and
 * output with execution data, and a record is in several of them: a /shape record of
 * `{index, shape}` is about 30 bytes where the full one is about 400.
 */
export const recordFor = (view: View | undefined, record: AnalysisRecord): ResultRecord => {
  if (view === undefined || view === 'analyze') return record;
  const { index } = record;
  if (isFailure(record)) return { index, error: record.error };
  return view === 'shape' ? { index, shape: record.shape } : { index, nbytes: record.nbytes };
};

/** The image's error, if it has one. */
export const errorOf = (record: ResultRecord): ImageError | undefined =>
  'error' in record ? record.error : undefined;

/** What the workflow returns: how the request asked for the answer, and one record per image
 * in upload order (the Map's ResultSelector). */
export interface BatchOutput {
  request: BatchRequest;
  results: ResultRecord[];
}

export const identityOf = ({ index, name, filename, contentType }: ImageIdentity) => ({
  index,
  name,
  filename,
  contentType,
});

/** A record whose image was not analyzed for a reason of the platform (storage, invocation,
 * deadline): the image may be fine, and sending it again may succeed. Never `[]`. */
export const isRetryable = (record: ResultRecord): boolean => errorOf(record)?.retryable === true;

/** The large-batch workflow's input (statemachine/large-batch.asl.json): where its manifest of
 * MapItems is (JSONL, one per uploaded image) and where its ResultWriter writes. The rest is
 * for the ingest, which reads it back from DescribeExecution to render the results. */
export interface LargeBatchInput {
  manifest: StagedObject;
  results: { bucket: string; prefix: string };
  /** How the Distributed Map cuts and runs the batch. */
  batching: {
    /** The ItemBatcher's MaxItemsPerBatchPath: images per analysis invocation. */
    maxItems: number;
    /** The Map's MaxConcurrencyPath: child batches (each one analysis invocation) at once,
     * the large batches' share of the analysis function's reserved concurrency. */
    maxConcurrency: number;
  };
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
export type BatchRecord = ResultRecord | NotUploadedRecord;

// ── Chunks (issue 9): the Map of analyze-batch iterates over chunks, not images ──────────

/**
 * One iteration of analyze-batch's Map: consecutive images of the request, analyzed by one
 * invocation that reads all their bytes with one ranged GET (they are contiguous in the
 * staged object). Fewer invocations, GETs, state transitions and logged events than one
 * iteration per image. The Map's ItemSelector hands it to the analyzer as an ItemBatch, the
 * request's view, staged object and deadline as its BatchInput (named once per chunk, not per
 * image), so the analyzer answers both alike: one record per item, in order. The ingest cuts
 * them (lambdas/ingest/staging.ts).
 */
export interface Chunk {
  Items: ChunkItem[];
}
