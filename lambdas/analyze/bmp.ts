/**
 * BMP, read the way Pillow 9.4's BmpImagePlugin reads it (sharp's libvips has no BMP loader):
 * the header rules that decide the mode (a grey-ramp palette is L or 1, bitfields layouts it
 * knows, OS/2 headers), then the bytes its decoders need: the raw decoder wants every row but
 * the last one's padding; the RLE decoder is replayed, counting pixels, as Pillow writes it.
 */
import type { PillowMode } from './pillow.ts';
import { type FormatReader, fail, ints } from './readers.ts';

const isBmp = (bytes: Uint8Array): boolean =>
  bytes.length >= 2 && bytes[0] === 0x42 && bytes[1] === 0x4d; // "BM"

export interface BmpInfo {
  /** Where the pixel data starts. */
  dataAt: number;
  width: number;
  height: number;
  bitDepth: number;
  mode: PillowMode;
  compression: number;
}

const RAW = 0;
const RLE8 = 1;
const RLE4 = 2;
const BITFIELDS = 3;

/** Bitfields layouts Pillow knows, by bit depth: masks (r, g, b[, a]) → has alpha. */
const MASKS: Record<number, Record<string, boolean>> = {
  32: {
    'ff0000,ff00,ff,0': false,
    'ff000000,ff0000,ff00,0': false,
    'ff000000,ff0000,ff00,ff': true,
    'ff,ff00,ff0000,ff000000': true,
    'ff0000,ff00,ff,ff000000': true,
    '0,0,0,0': true,
  },
  24: { 'ff0000,ff00,ff': false },
  16: { 'f800,7e0,1f': false, '7c00,3e0,1f': false },
};

/** A DIB inside an icon or cursor: no file header, and the height counts the AND mask too. */
export interface Dib {
  /** Where the info header starts. */
  at: number;
  /** Pillow's CUR reader: a 32-bit cursor whose header sits at offset 22 keeps its alpha. */
  cursorAlpha?: boolean;
}

/**
 * Reads the header; `checkPixels(pixels)` runs before any data is looked at. Throws FormatError
 * where Pillow (or the NumPy conversion) raised.
 */
export const readBmp = (
  b: Uint8Array,
  checkPixels: (pixels: number) => void,
  dib?: Dib,
): BmpInfo => {
  const { u32le: u32, u16le: u16 } = ints(b);
  const base = dib ? dib.at : 14;
  if (!dib && b.length < 14) fail('struct.error');
  let offset = dib ? 0 : u32(10);
  const headerSize = u32(base);
  if (base + headerSize > b.length) fail('Truncated File Read');
  let width: number;
  let height: number;
  let bits: number;
  let compression = RAW;
  let colours = 0;
  let padding = 4;
  let masks: number[] = [];
  let at = base + headerSize; // the file position after the header
  if (headerSize === 12) {
    [width, height, bits] = [u16(base + 4), u16(base + 6), u16(base + 10)];
    padding = 3;
  } else if ([40, 64, 108, 124].includes(headerSize)) {
    width = u32(base + 4);
    // A top-down image stores a negative height; Pillow tests only the high byte.
    height = b[base + 11] === 0xff ? 2 ** 32 - u32(base + 8) : u32(base + 8);
    bits = u16(base + 14);
    compression = u32(base + 16);
    colours = u32(base + 32);
    if (compression === BITFIELDS) {
      if (headerSize - 4 >= 52)
        masks = [u32(base + 40), u32(base + 44), u32(base + 48), u32(base + 52)];
      else {
        masks = [u32(at), u32(at + 4), u32(at + 8), 0];
        at += 12;
      }
    }
  } else return fail(`Unsupported BMP header type (${headerSize})`);
  colours = colours || 2 ** bits;
  if (!dib && offset === 14 + headerSize && bits <= 8) offset += 4 * colours;

  let mode: PillowMode | undefined = { 1: 'P', 4: 'P', 8: 'P', 16: 'RGB', 24: 'RGB', 32: 'RGB' }[
    bits
  ] as PillowMode | undefined;
  if (!mode) return fail(`Unsupported BMP pixel depth (${bits})`);
  let rawBits = bits;
  if (compression === BITFIELDS) {
    const key = (bits === 32 ? masks : masks.slice(0, 3)).map((m) => m.toString(16)).join(',');
    const alpha = MASKS[bits]?.[key];
    if (alpha === undefined) fail('Unsupported BMP bitfields layout');
    if (alpha) mode = 'RGBA';
  } else if (compression === RAW) {
    if (bits === 32 && dib?.cursorAlpha) mode = 'RGBA';
  } else if (compression !== RLE8 && compression !== RLE4) {
    fail(`Unsupported BMP compression (${compression})`);
  }
  if (mode === 'P') {
    if (!(colours > 0 && colours <= 65536)) fail('Unsupported BMP Palette size');
    const palette = b.subarray(at, at + padding * colours);
    at += palette.length;
    const grey = Array.from({ length: colours }, (_, i) =>
      colours === 2 ? i * 255 : i & 255,
    ).every((level, i) => {
      const p = i * padding;
      return (
        p + 3 <= palette.length &&
        palette[p] === level &&
        palette[p + 1] === level &&
        palette[p + 2] === level
      );
    });
    if (grey) {
      // The raw mode becomes the mode itself: 1 bit or 8 bits a pixel, whatever the file says.
      mode = colours === 2 ? '1' : 'L';
      rawBits = colours === 2 ? 1 : 8;
    }
  }
  if (width <= 0 || height <= 0) fail('not identified by this driver');
  checkPixels(width * height);
  // Icons and cursors: the image is the top half, the AND mask the rest.
  if (dib) height = Math.floor(height / 2);
  if (height <= 0) fail('tile cannot extend outside image');

  const start = offset || at;
  if (compression === RLE8 || compression === RLE4) {
    if (mode !== 'P' && mode !== 'L') fail('unknown raw mode');
    const decoded = replayRle(b, start, width, height, compression === RLE4);
    if (decoded < width * height) fail('not enough image data');
  } else {
    // RawDecode: each row is ceil(width × bits / 8) bytes; the stride pads rows to 4 bytes.
    const rowBytes = Math.ceil((width * rawBits) / 8);
    const stride = ((width * bits + 31) >>> 3) & ~3;
    if (stride < rowBytes) fail('raw decoder configuration');
    if (start + stride * (height - 1) + rowBytes > b.length) fail('image file is truncated');
  }
  return { width, height, bitDepth: bits, mode, compression, dataAt: start };
};

/** BmpRleDecoder.decode, counting the pixels it would produce. */
const replayRle = (b: Uint8Array, from: number, width: number, height: number, rle4: boolean) => {
  const total = width * height;
  let [length, x, at] = [0, 0, from];
  while (length < total) {
    if (at + 2 > b.length) break;
    const pixels = b[at] as number;
    const byte = b[at + 1] as number;
    at += 2;
    if (pixels) {
      const n = x + pixels > width ? Math.max(0, width - x) : pixels;
      length += n;
      x += n;
    } else if (byte === 0) {
      if (length % width) length += width - (length % width);
      x = 0;
    } else if (byte === 1) {
      break;
    } else if (byte === 2) {
      // Pillow reads the delta's two bytes twice over: the second pair is the one it uses.
      if (at + 2 > b.length) break;
      at += 2;
      if (at + 2 > b.length) fail('not enough values to unpack');
      length += (b[at] as number) + (b[at + 1] as number) * width;
      at += 2;
      x = length % width;
    } else {
      const count = rle4 ? byte >>> 1 : byte;
      const read = Math.min(count, Math.max(0, b.length - at));
      length += rle4 ? read * 2 : read;
      at += read;
      if (read < count) break;
      x += byte;
      if (at % 2 !== 0) at++;
    }
  }
  return length;
};

export const bmp: FormatReader = {
  format: 'bmp',
  mediaType: 'image/bmp',
  accepts: isBmp,
  read: (b, checkPixels) => {
    const info = readBmp(b, checkPixels);
    return { ...info, isPalette: info.bitDepth <= 8 };
  },
};
