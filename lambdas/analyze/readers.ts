/**
 * The contract of the format readers that stand in for Pillow plugins libvips has no loader
 * for: each reads the header the way the plugin does, then checks the data the way the plugin's
 * decoder consumes it, without decoding pixels. A reader throws FormatError where Pillow raised.
 */
import { FormatError } from './errors.ts';
import type { PillowMode } from './pillow.ts';

/**
 * Memory one analysis may hold beyond what Node and libvips need anyway, so that the worst file
 * fits the analyze Lambda's 1,769 MB: 4:2:0 progressive JPEGs up to the pixel limit fit in it,
 * 4:4:4 ones up to 111 MP, PNGs up to 160 MP of RGBA.
 */
export const MEMORY_BUDGET = 640 * 2 ** 20;

export const fail = (message: string): never => {
  throw new FormatError(message);
};

/** What a reader found; the facts it leaves out are derived from the mode. */
export interface Decoded {
  width: number;
  height: number;
  mode: PillowMode;
  bitDepth?: number;
  pages?: number;
  hasAlpha?: boolean;
  isPalette?: boolean;
  colourSpace?: string;
  isProgressive?: boolean;
}

export interface FormatReader {
  format: string;
  mediaType: string;
  /** Pillow's _accept for the plugin: a cheap test of the first bytes. */
  accepts: (bytes: Uint8Array) => boolean;
  /** `checkPixels` runs once the size is known, before any data is looked at. */
  read: (bytes: Uint8Array, checkPixels: (pixels: number) => void) => Decoded;
  /** The same answers as `read`, by a path that pays off on large data (the thread pool). */
  readLarge?: (bytes: Uint8Array, checkPixels: (pixels: number) => void) => Promise<Decoded>;
}

/** Little- and big-endian readers that fail like struct.unpack on a short buffer. */
export const ints = (b: Uint8Array) => {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const within = (at: number, n: number) =>
    at >= 0 && at + n <= b.length ? at : fail('struct.error');
  return {
    u16le: (at: number) => view.getUint16(within(at, 2), true),
    u32le: (at: number) => view.getUint32(within(at, 4), true),
    u16be: (at: number) => view.getUint16(within(at, 2), false),
    u32be: (at: number) => view.getUint32(within(at, 4), false),
    i32le: (at: number) => view.getInt32(within(at, 4), true),
  };
};

/** ImageFile.load with the raw decoder: `rows` rows of `rowBytes` from `offset`, `stride` apart. */
export const needRaw = (
  b: Uint8Array,
  offset: number,
  rows: number,
  rowBytes: number,
  stride = rowBytes,
) => {
  if (offset + stride * (rows - 1) + rowBytes > b.length) fail('image file is truncated');
};
