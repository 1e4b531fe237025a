/**
 * analyzeImage(bytes): what the original Python service answered for one upload (shape and
 * nbytes of the decoded NumPy array), plus what a user wants to know, or a typed failure.
 * Never throws for bad input: one unreadable image must not fail its batch.
 */
import sharp, { type Metadata } from 'sharp';
import { loadersRestrictedByHost } from '../shared/config.ts';
import {
  type ImageAnalysis,
  type ImageErrorCode,
  type ImageFacts,
  isFailure,
} from '../shared/types.ts';
import { blp } from './blp.ts';
import { bmp } from './bmp.ts';
import { dds } from './dds.ts';
import { MemoryBudgetError, NotThisFormat, PixelLimitError } from './errors.ts';
import { gbr } from './gbr.ts';
import { gif } from './gif.ts';
import { icns } from './icns.ts';
import { cur, ico } from './ico.ts';
import { im } from './im.ts';
import { progressiveJpegMemory, readJpegHeader } from './jpeg.ts';
import { walkJpeg } from './jpeg-walk.ts';
import { jpeg2000 } from './jpeg2000.ts';
import { restrictLoaders } from './loaders.ts';
import { msp } from './msp.ts';
import { pcx } from './pcx.ts';
import { arrayLayout, genericMode, jpegMode, type PillowMode } from './pillow.ts';
import { png } from './png.ts';
import { ppm } from './ppm.ts';
import { type Decoded, type FormatReader, MEMORY_BUDGET } from './readers.ts';
import { sgi } from './sgi.ts';
import { spider } from './spider.ts';
import { sun } from './sun.ts';
import { tga } from './tga.ts';
import { isTiff, readTiff, type TiffInfo } from './tiff.ts';
import { readWebpHeader } from './webp.ts';
import { xbm } from './xbm.ts';
import { xpm } from './xpm.ts';

/**
 * Formats read the way Pillow reads them, recognised by their first bytes (Pillow's _accept).
 * libvips reads PNG and GIF, but answers differently from Pillow on damaged files.
 */
const READERS: FormatReader[] = [
  bmp,
  gif,
  png,
  ppm,
  blp,
  cur,
  dds,
  gbr,
  icns,
  ico,
  jpeg2000,
  msp,
  pcx,
  sgi,
  sun,
  xbm,
  xpm,
];

// Only the raster loaders we answer for (loaders.ts); set by the host when it says so.
if (!loadersRestrictedByHost()) restrictLoaders();
// Each image is read once; libvips' operation cache would only hold memory between invocations.
sharp.cache(false);

/** Pillow's decompression-bomb error threshold (2 × Image.MAX_IMAGE_PIXELS): above it the
 * original answered [] too. */
export const MAX_PIXELS = 178_956_970;

export { MEMORY_BUDGET } from './readers.ts';

const SUPPORTED_FORMATS = [
  'JPEG, PNG, WebP, GIF, TIFF, AVIF, BMP, ICO/CUR, ICNS, JPEG 2000, PBM/PGM/PPM, TGA, PCX, SGI,',
  'DDS, BLP, IM, MSP, SPIDER, Sun raster, XBM, XPM, GIMP brush',
].join(' ');

export interface AnalyzeOptions {
  maxPixels?: number;
  /** Validate with a full-size decode instead of shrink-on-load: the benchmark's baseline. */
  fullDecode?: boolean;
}

export const analyzeImage = async (
  bytes: Uint8Array,
  { maxPixels = MAX_PIXELS, fullDecode = false }: AnalyzeOptions = {},
): Promise<ImageAnalysis> => {
  const size = bytes.byteLength;
  const fail = (code: ImageErrorCode, message: string): ImageAnalysis => ({
    bytes: size,
    error: { code, message },
  });
  if (size === 0) return fail('EMPTY_IMAGE', 'The image is empty (0 bytes).');

  // When the plugin a signature picks refuses the file, Pillow goes on to the plugins without
  // one: a damaged signature can still open as IM, SPIDER or TGA.
  const orFallback = async (analysis: ImageAnalysis): Promise<ImageAnalysis> =>
    isRefusal(analysis) ? ((await fallback(bytes, maxPixels, fail)) ?? analysis) : analysis;
  const reader = READERS.find((r) => r.accepts(bytes));
  if (reader) {
    const analysis = await analyzeWith(reader, bytes, maxPixels, fail);
    return analysis
      ? orFallback(analysis)
      : ((await fallback(bytes, maxPixels, fail)) ?? unsupported(fail));
  }

  // TIFF: Pillow's mode and its raw-strip checks come first; libvips then reads compressed data.
  let tiff: TiffInfo | undefined;
  if (isTiff(bytes)) {
    try {
      tiff = readTiff(bytes);
    } catch (error) {
      return orFallback(
        fail('CORRUPT_IMAGE', `The TIFF is corrupt or truncated (${describe(error)}).`),
      );
    }
    if (tiff.width * tiff.height > maxPixels)
      return fail('PIXEL_LIMIT_EXCEEDED', pixelLimitMessage(tiff.width * tiff.height, maxPixels));
    // Uncompressed strips are checked already: libvips has nothing to add, and may refuse
    // layouts Pillow reads.
    if (!tiff.compressed) {
      const { photometric } = tiff;
      const colourSpace = photometric === 5 ? 'cmyk' : photometric <= 1 ? 'b-w' : 'srgb';
      return readerFacts('tiff', 'image/tiff', bytes, { ...tiff, colourSpace });
    }
  }

  // A plain JPEG's or WebP's header facts come from its first bytes: libvips is asked once,
  // to validate. Anything else asks metadata() first, as before; so does an image over a bound,
  // so that a header libvips rejects is still answered as such.
  const header = tiff ? undefined : plainHeader(bytes);
  // Read once from the frame header, for the bound here and below (libvips reads a JPEG only
  // from these bytes, isJpeg).
  const jpegMemory = isJpeg(bytes) ? progressiveJpegMemory(bytes) : 0;
  const withinBounds =
    header !== undefined &&
    header.width * header.height <= maxPixels &&
    (header.format !== 'jpeg' || jpegMemory <= MEMORY_BUDGET);
  let meta: Header;
  try {
    meta =
      header && withinBounds
        ? header
        : await sharp(bytes, { limitInputPixels: maxPixels, unlimited: isJpeg(bytes) }).metadata();
  } catch (error) {
    // IM, SPIDER and TGA have no signature: Pillow tries them on anything no other plugin claimed.
    if (/unsupported image format/i.test(describe(error)))
      return (await fallback(bytes, maxPixels, fail)) ?? unsupported(fail);
    return failFromLibvips(error, fail, maxPixels);
  }
  const pixels = meta.width * meta.height;
  if (pixels > maxPixels) return fail('PIXEL_LIMIT_EXCEEDED', pixelLimitMessage(pixels, maxPixels));
  if (meta.format === 'jpeg') {
    if (jpegMemory > MEMORY_BUDGET) return fail('PIXEL_LIMIT_EXCEEDED', memoryMessage(jpegMemory));
    // A JPEG whose marker structure leaves Pillow no way to raise needs no decode at all, nor
    // does one where it proves libjpeg raises (jpeg-walk.ts): that is answered as a libvips
    // failure is. Anything less clear-cut is validated by libvips below.
    const walk = fullDecode ? undefined : walkJpeg(bytes);
    if (walk?.verdict === 'succeeds' && meta === header)
      return facts(bytes, meta, modeOf(meta, bytes));
    if (walk?.verdict === 'fails')
      return fail('CORRUPT_IMAGE', `The image data is corrupt or truncated (${walk.reason}).`);
  }

  try {
    const strict = tiff !== undefined && !tiff.fax;
    const column = !fullDecode && tiff !== undefined && !tiff.tiled ? meta.height : undefined;
    await validatePixels(bytes, {
      maxPixels,
      shrink: !fullDecode && pixels >= SHRINK_FROM_PIXELS,
      strict,
      column,
      cmyk: meta.space === 'cmyk',
      jpeg: meta.format === 'jpeg',
    });
  } catch (error) {
    return failFromLibvips(error, fail, maxPixels);
  }
  return facts(bytes, meta, tiff?.mode ?? modeOf(meta, bytes));
};

/**
 * Proves the compressed data decodes to the end without paying for a full-size decode:
 * shrinking to 1×1 lets libjpeg (and libwebp) decode at 1/8 scale, and the box filter reads
 * every row, so a file that loses only its last rows still fails. A nearest-neighbour kernel
 * would skip rows and miss that truncation (see the tests). Under a megapixel, building that
 * resize pipeline costs more than it saves (1.3 ms against 0.7 ms for a 48 × 32 JPEG), so
 * small images are decoded as they are.
 */
const SHRINK_FROM_PIXELS = 1_000_000;

interface Validation {
  maxPixels: number;
  /** Shrink-on-load to 1×1 (JPEG and WebP decode at 1/8 scale). */
  shrink: boolean;
  /** libtiff's errors fail the load (else only truncation). */
  strict: boolean;
  /**
   * A TIFF in strips: ask for the first column only, `column` rows high. libtiff has no
   * reduced-size decode, but libvips decodes each strip whole to cut the column out of it, so
   * every strip is still decoded (and its errors raised) while no image-sized output is made,
   * copied or shrunk. Not for tiles: a column touches only the first tile of each row.
   */
  column: number | undefined;
  cmyk: boolean;
  /**
   * libvips ends a JPEG load (and a header read) after too many libjpeg warnings unless
   * `unlimited` (a guard against slow, damaged files, libvips#2749); Pillow counts none. Damaged
   * Huffman data warns once per bad code, junk between segments once per segment, so without
   * it JPEGs that Pillow decodes were refused (see jpeg-walk.test.ts).
   */
  jpeg: boolean;
}

/** libjpeg's SOI: libvips picks its JPEG loader for these bytes (see Validation.jpeg). */
const isJpeg = (bytes: Uint8Array) => bytes[0] === 0xff && bytes[1] === 0xd8;

const validatePixels = (bytes: Uint8Array, v: Validation) => {
  // libtiff reports damaged strips as errors that libvips passes on as warnings unless asked;
  // Pillow's libtiff decoder fails on them (except in fax data, whose bad lines it mends).
  const failOn = v.strict ? 'error' : 'truncated';
  const image = sharp(bytes, { failOn, limitInputPixels: v.maxPixels, unlimited: v.jpeg });
  // CMYK stays CMYK: converting it to sRGB through a profile would cost 30 ms, and prove nothing.
  if (v.cmyk) image.pipelineColourspace('cmyk').toColourspace('cmyk');
  if (v.column !== undefined) image.extract({ left: 0, top: 0, width: 1, height: v.column });
  else if (v.shrink) image.resize(1, 1, { fit: 'fill' });
  return image.raw().toBuffer();
};

/** The part of sharp's metadata() the facts are made of. */
type Header = Pick<
  Metadata,
  | 'format'
  | 'mediaType'
  | 'width'
  | 'height'
  | 'channels'
  | 'depth'
  | 'bitsPerSample'
  | 'hasAlpha'
  | 'isPalette'
  | 'space'
  | 'orientation'
  | 'pages'
  | 'isProgressive'
  | 'compression'
>;

/** What metadata() answers for a JPEG or a WebP whose header we read (see jpeg.ts, webp.ts). */
const plainHeader = (bytes: Uint8Array): Header | undefined => {
  const common = { depth: 'uchar', isPalette: false, isProgressive: false, space: 'srgb' } as const;
  const jpeg = readJpegHeader(bytes);
  if (jpeg) {
    // libjpeg decodes 1, 3 or 4 components to 8 bits each.
    const { components, orientation } = jpeg;
    return {
      ...common,
      format: 'jpeg',
      mediaType: 'image/jpeg',
      width: jpeg.width,
      height: jpeg.height,
      channels: components,
      hasAlpha: false,
      space: components === 1 ? 'b-w' : components === 4 ? 'cmyk' : 'srgb',
      ...(orientation !== undefined && { orientation }),
      isProgressive: jpeg.isProgressive,
    };
  }
  const webp = readWebpHeader(bytes);
  if (webp) {
    const { width, height, hasAlpha } = webp;
    const channels = hasAlpha ? 4 : 3;
    return {
      ...common,
      format: 'webp',
      mediaType: 'image/webp',
      width,
      height,
      channels,
      hasAlpha,
    };
  }
  return undefined;
};

const modeOf = (meta: Header, bytes: Uint8Array): PillowMode => {
  if (meta.format === 'webp') {
    // Pillow's WebPAnimDecoder takes the mode from the VP8X alpha flag; libvips adds alpha
    // to an animation whose frames do not cover the canvas.
    const vp8x = String.fromCharCode(...bytes.subarray(12, 16)) === 'VP8X';
    const flags = bytes[20] ?? 0;
    if (vp8x && flags & 0x02) return flags & 0x10 ? 'RGBA' : 'RGB';
  }
  switch (meta.format) {
    case 'jpeg':
      return jpegMode(meta.channels);
    default:
      return genericMode({
        channels: meta.channels,
        depth: meta.depth,
        bitsPerSample: meta.bitsPerSample ?? 8,
        isPalette: meta.isPalette,
        colourSpace: meta.space,
        hasAlpha: meta.hasAlpha,
      });
  }
};

const BITS: Record<string, number> = {
  uchar: 8,
  char: 8,
  ushort: 16,
  short: 16,
  uint: 32,
  int: 32,
  float: 32,
  double: 64,
};

const facts = (bytes: Uint8Array, meta: Header, mode: PillowMode): ImageFacts => ({
  format: meta.format === 'heif' && meta.compression === 'av1' ? 'avif' : meta.format,
  mediaType: meta.mediaType ?? `image/${meta.format}`,
  width: meta.width,
  height: meta.height,
  mode,
  ...arrayLayout(mode, meta.width, meta.height),
  bytes: bytes.byteLength,
  bitDepth: meta.bitsPerSample ?? BITS[meta.depth] ?? 8,
  hasAlpha: meta.hasAlpha,
  isPalette: meta.isPalette,
  colourSpace: meta.space,
  orientation: meta.orientation ?? null,
  pages: meta.pages ?? 1,
  isProgressive: meta.isProgressive,
});

type Fail = (code: ImageErrorCode, message: string) => ImageAnalysis;

/** Analysis by one of our readers; undefined when the bytes turn out not to be its format. */
const analyzeWith = async (
  reader: FormatReader,
  bytes: Uint8Array,
  maxPixels: number,
  fail: Fail,
): Promise<ImageAnalysis | undefined> => {
  try {
    const image = await (reader.readLarge ?? reader.read)(bytes, (pixels) => {
      if (pixels > maxPixels) throw new PixelLimitError(pixels);
    });
    return readerFacts(reader.format, reader.mediaType, bytes, image);
  } catch (error) {
    if (error instanceof PixelLimitError)
      return fail('PIXEL_LIMIT_EXCEEDED', pixelLimitMessage(error.pixels, maxPixels));
    if (error instanceof MemoryBudgetError)
      return fail('PIXEL_LIMIT_EXCEEDED', memoryMessage(error.bytes));
    if (error instanceof NotThisFormat) return undefined;
    const name = reader.format.toUpperCase();
    return fail('CORRUPT_IMAGE', `The ${name} data is corrupt or truncated (${describe(error)}).`);
  }
};

const readerFacts = (
  format: string,
  mediaType: string,
  bytes: Uint8Array,
  image: Decoded,
): ImageFacts => {
  const { mode } = image;
  const grey = ['1', 'L', 'LA', 'I', 'I;16', 'I;16B', 'I;16L', 'F'].includes(mode);
  return {
    format,
    mediaType,
    width: image.width,
    height: image.height,
    mode,
    ...arrayLayout(mode, image.width, image.height),
    bytes: bytes.byteLength,
    bitDepth: image.bitDepth ?? 8,
    hasAlpha: image.hasAlpha ?? mode.includes('A'),
    isPalette: image.isPalette ?? mode.startsWith('P'),
    colourSpace: image.colourSpace ?? (grey ? 'b-w' : mode === 'CMYK' ? 'cmyk' : 'srgb'),
    orientation: null,
    pages: image.pages ?? 1,
    isProgressive: image.isProgressive ?? false,
  };
};

/** The readers for formats without a signature, in Pillow's order. */
const fallback = async (bytes: Uint8Array, maxPixels: number, fail: Fail) => {
  for (const reader of [im, spider, tga]) {
    const analysis = await analyzeWith(reader, bytes, maxPixels, fail);
    if (analysis) return analysis;
  }
  return undefined;
};

const isRefusal = (analysis: ImageAnalysis) =>
  isFailure(analysis) && analysis.error.code !== 'PIXEL_LIMIT_EXCEEDED';

const unsupported = (fail: Fail) =>
  fail('UNSUPPORTED_FORMAT', `Not a supported image; supported formats: ${SUPPORTED_FORMATS}.`);

const failFromLibvips = (error: unknown, fail: Fail, maxPixels: number): ImageAnalysis => {
  const detail = describe(error);
  if (/unsupported image format/i.test(detail)) return unsupported(fail);
  if (/pixel limit/i.test(detail)) {
    return fail(
      'PIXEL_LIMIT_EXCEEDED',
      `The image has more than ${maxPixels} pixels (decompression-bomb guard).`,
    );
  }
  if (/unsupported/i.test(detail))
    return fail('UNSUPPORTED_FORMAT', `Unsupported image variant (${detail}).`);
  return fail('CORRUPT_IMAGE', `The image data is corrupt or truncated (${detail}).`);
};

const memoryMessage = (memory: number) =>
  `Decoding this image needs ${Math.ceil(memory / 2 ** 20)} MB, over the budget of ${MEMORY_BUDGET / 2 ** 20} MB.`;

const pixelLimitMessage = (pixels: number, maxPixels: number) =>
  `The image has ${pixels} pixels, over the limit of ${maxPixels} (decompression-bomb guard).`;

/** libvips messages are one useful line followed by internal detail; keep the first line. */
const describe = (error: unknown): string =>
  (error instanceof Error ? error.message : String(error)).split('\n')[0]?.trim() ??
  'unknown error';
