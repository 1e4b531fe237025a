/**
 * The work a request asks for, known before anything is decoded: the pixels its images
 * declare in their headers (image-size reads the dimensions of JPEG, PNG, GIF, WebP, TIFF,
 * AVIF, BMP and more without decoding). Decoding cost follows pixels, not compressed bytes:
 * a 1-bit PNG of 13,370² is 1 kB on the wire and 179 MP to validate.
 */
import { imageSize } from 'image-size';
import { PixelBudgetError } from './errors.ts';

/** Width × height as the header declares it (every frame of an animation is the same size;
 * the analysis reads the first). 0 when there is no readable header: such a file is refused
 * by the analysis before any decoding. */
export const declaredPixels = (content: Uint8Array): number => {
  try {
    const { width, height } = imageSize(content);
    return width * height;
  } catch {
    return 0;
  }
};

/** Sums what the images declare (declaredPixels of each, read once by the caller, which also
 * sizes its chunks by them) and refuses the request past `limit`. */
export const assertPixelBudget = (
  perImage: readonly number[],
  limit: number,
  mode: 'sync' | 'async',
) => {
  let pixels = 0;
  for (const declared of perImage) pixels += declared;
  if (pixels > limit) throw new PixelBudgetError(pixels, limit, mode);
  return pixels;
};
