/**
 * What the analysis says of one image. The workflow's own shapes (items, records, input,
 * output) are in workflow.ts.
 */

export type ImageErrorCode =
  | 'EMPTY_IMAGE'
  | 'UNSUPPORTED_FORMAT'
  | 'CORRUPT_IMAGE'
  | 'PIXEL_LIMIT_EXCEEDED'
  /** The analysis did not happen or did not finish: see `retryable`. */
  | 'ANALYSIS_FAILED'
  /** Skipped: the synchronous caller had already been answered. */
  | 'DEADLINE_EXCEEDED';

export interface ImageError {
  code: ImageErrorCode;
  message: string;
  /** True when the platform failed (storage, invocation, deadline), not the image: sending it
   * again may succeed. Absent for the image's own errors. */
  retryable?: boolean;
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

export const isFailure = (analysis: ImageAnalysis): analysis is ImageFailure => 'error' in analysis;
