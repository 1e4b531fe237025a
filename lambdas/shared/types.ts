/**
 * The contract between the ingest, the workflow and the analyser. The ASL file moves these
 * objects around untouched, so changing a field here means checking statemachine/ too.
 */

/** Where the analyser finds an image: inline (base64) or staged in S3 (claim-check). */
export type ImageSource = { inline: string } | { s3: { bucket: string; key: string } };

/** One element of the Map state's items: every key is always present (null when unknown),
 * because JSONPath in the workflow's Catch branch fails on a missing key. */
export interface MapItem {
  index: number;
  name: string | null;
  filename: string | null;
  contentType: string | null;
  source: ImageSource;
}

export type ImageErrorCode =
  | 'EMPTY_IMAGE'
  | 'UNSUPPORTED_FORMAT'
  | 'CORRUPT_IMAGE'
  | 'PIXEL_LIMIT_EXCEEDED'
  | 'SOURCE_UNAVAILABLE'
  | 'ANALYSIS_FAILED';

export interface ImageError {
  code: ImageErrorCode;
  message: string;
}

/** What we know about a readable image. `shape`, `nbytes` and `mode` follow Pillow + NumPy. */
export interface ImageFacts {
  format: string;
  mediaType: string;
  width: number;
  height: number;
  /** Bands of the NumPy array: 1 for one-band modes (L, P, 1, I, F, I;16). */
  channels: number;
  /** The Pillow mode the original service decoded the image to. */
  mode: string;
  shape: number[];
  /** The decoded array's size in bytes / 1000, as the original reported it. */
  nbytes: number;
  /** Size of the file as uploaded. */
  bytes: number;
  /** Bits per sample as stored in the file. */
  bitDepth: number;
  hasAlpha: boolean;
  isPalette: boolean;
  colourSpace: string;
  /** EXIF orientation (1-8) when present; shape is reported for the stored, unrotated pixels. */
  orientation: number | null;
  pages: number;
  isProgressive: boolean;
}

export interface ImageFailure {
  bytes: number;
  error: ImageError;
}

export type ImageAnalysis = ImageFacts | ImageFailure;

/** One element of the workflow's results: the item's identity plus its analysis. */
export type AnalysisRecord = Omit<MapItem, 'source'> & ImageAnalysis;

export const isFailure = (analysis: ImageAnalysis): analysis is ImageFailure => 'error' in analysis;
