/**
 * TIFF: the first IFD read the way Pillow 9.4's TiffImagePlugin reads it, for the mode Pillow
 * gives the image (palette → P, signed 16-bit → I, layouts it has no mode for → refused) and,
 * for uncompressed strips, the bytes its raw decoder needs. Compressed data is still validated by
 * libvips' libtiff (see analysis.ts), as Pillow validated it with libtiff.
 */
import type { PillowMode } from './pillow.ts';
import { fail } from './readers.ts';

export const isTiff = (b: Uint8Array) =>
  b.length >= 4 &&
  ((b[0] === 0x49 && b[1] === 0x49 && b[2] === 0x2a && b[3] === 0) ||
    (b[0] === 0x4d && b[1] === 0x4d && b[2] === 0 && b[3] === 0x2a));

/** Bytes per value of each TIFF field type Pillow knows (others are skipped with a warning). */
const TYPE_SIZE: Record<number, number> = {
  1: 1,
  2: 1,
  3: 2,
  4: 4,
  5: 8,
  6: 1,
  7: 1,
  8: 2,
  9: 4,
  10: 8,
  11: 4,
  12: 8,
  13: 4,
  16: 8,
  17: 8,
  18: 8,
};

const TAGS = {
  width: 256,
  height: 257,
  bitsPerSample: 258,
  compression: 259,
  photometric: 262,
  fillOrder: 266,
  stripOffsets: 273,
  samplesPerPixel: 277,
  rowsPerStrip: 278,
  planar: 284,
  tileWidth: 322,
  tileLength: 323,
  tileOffsets: 324,
  extraSamples: 338,
  sampleFormat: 339,
  windowsMediaPhoto: 0xbc01,
};

/** Pillow's COMPRESSION_INFO: any other value fails (KeyError). */
const COMPRESSIONS = new Set([
  1, 2, 3, 4, 5, 6, 7, 8, 32771, 32773, 32809, 32946, 34676, 34677, 34925, 50000, 50001,
]);

/** ImageFileDirectory_v2.load: tag → values, stopping quietly where Pillow stops. */
const readIfd = (b: Uint8Array): Map<number, number[]> => {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const le = b[0] === 0x49;
  const tags = new Map<number, number[]>();
  if (b.length < 8) fail('truncated header');
  const at = view.getUint32(4, le);
  if (at + 2 > b.length) return tags; // Pillow warns and reads no tags
  const count = view.getUint16(at, le);
  for (let i = 0; i < count; i++) {
    const entry = at + 2 + i * 12;
    if (entry + 12 > b.length) return tags; // a short read ends the directory
    const tag = view.getUint16(entry, le);
    const type = view.getUint16(entry + 2, le);
    const n = view.getUint32(entry + 4, le);
    const unit = TYPE_SIZE[type];
    if (!unit) continue;
    const size = unit * n;
    let data = entry + 8;
    if (size > 4) {
      data = view.getUint32(entry + 8, le);
      if (data + size > b.length) return tags; // _safe_read raises; the load stops there
    }
    const values: number[] = [];
    for (let k = 0; k < Math.min(n, 4096); k++) {
      const p = data + k * unit;
      if (type === 3 || type === 8) values.push(view.getUint16(p, le));
      else if (type === 4 || type === 9 || type === 13) values.push(view.getUint32(p, le));
      // Pillow keeps BYTE and UNDEFINED values as bytes and ASCII as text: never equal to a number.
      else if (type === 1 || type === 2 || type === 7) values.push(Number.NaN);
      else if (type === 6) values.push(b[p] as number);
      else if (type === 5 || type === 10)
        values.push(view.getUint32(p, le) / (view.getUint32(p + 4, le) || 1));
      else values.push(0);
    }
    tags.set(tag, values);
  }
  return tags;
};

/**
 * OPEN_INFO of TiffImagePlugin, as rules: photometric, sample format, fill order, bits per
 * sample and extra samples → mode. Byte order matters only for 16-bit unsigned grey.
 */
const pillowMode = (
  le: boolean,
  photo: number,
  format: number,
  fill: number,
  bps: number[],
  extra: number[],
): PillowMode | undefined => {
  const bits = bps.join(',');
  const ex = extra.join(',');
  if (fill !== 1 && fill !== 2) return undefined;
  if (photo === 0 || photo === 1) {
    if (ex === '' && format === 1) {
      if (bits === '1') return '1';
      if (bits === '2' || bits === '4' || bits === '8') return 'L';
    }
    if (fill === 2)
      return le && photo === 1 && format === 1 && bits === '16' && ex === '' ? 'I;16' : undefined;
    if (format === 3 && bits === '32' && ex === '') return 'F';
    if (photo === 0) return le && format === 1 && bits === '16' && ex === '' ? 'I;16' : undefined;
    if (format === 1 && bits === '8,8' && ex === '2') return 'LA';
    if (ex !== '') return undefined;
    if (format === 2 && (bits === '16' || bits === '32')) return 'I';
    if (format !== 1) return undefined;
    if (bits === '16') return le ? 'I;16' : 'I;16B';
    if (bits === '12' && le) return 'I;16';
    if (bits === '32' && le) return 'I';
    return undefined;
  }
  if (format !== 1) return undefined;
  if (photo === 2) {
    if (bits === '8,8,8' && ex === '') return 'RGB';
    if (fill !== 1) return undefined;
    if (bits === '8,8,8,8' && ['', '1', '2', '999'].includes(ex)) return 'RGBA';
    if (bits === '8,8,8,8' && ex === '0') return 'RGBX';
    if (bits === '8,8,8,8,8' && ex === '0,0') return 'RGBX';
    if (bits === '8,8,8,8,8,8' && ex === '0,0,0') return 'RGBX';
    if (bits === '8,8,8,8,8' && (ex === '1,0' || ex === '2,0')) return 'RGBA';
    if (bits === '8,8,8,8,8,8' && (ex === '1,0,0' || ex === '2,0,0')) return 'RGBA';
    if (bits === '16,16,16' && ex === '') return 'RGB';
    if (bits === '16,16,16,16' && ['', '1', '2'].includes(ex)) return 'RGBA';
    if (bits === '16,16,16,16' && ex === '0') return 'RGBX';
    return undefined;
  }
  if (photo === 3) {
    if (['1', '2', '4', '8'].includes(bits) && ex === '') return 'P';
    if (bits === '8,8' && ex === '2' && fill === 1) return 'PA';
    return undefined;
  }
  if (fill !== 1) return undefined;
  if (photo === 5) {
    if (bits === '8,8,8,8' && ex === '') return 'CMYK';
    if (bits === '8,8,8,8,8' && ex === '0') return 'CMYK';
    if (bits === '8,8,8,8,8,8' && ex === '0,0') return 'CMYK';
    if (bits === '16,16,16,16' && ex === '' && le) return 'CMYK';
    return undefined;
  }
  if (photo === 6 && bits === '8,8,8' && ex === '') return 'RGB';
  if (photo === 8 && bits === '8,8,8' && ex === '') return 'LAB';
  return undefined;
};

export interface TiffInfo {
  width: number;
  height: number;
  mode: PillowMode;
  bitDepth: number;
  photometric: number;
  pages: number;
  /** libtiff decodes the data (Pillow's path for every compression but none). */
  compressed: boolean;
  /** CCITT fax data: libtiff only warns about damaged lines (Pillow keeps the image). */
  fax: boolean;
  /** Tiles rather than strips: a column of pixels does not touch all of the data. */
  tiled: boolean;
}

/** Reads the first IFD as TiffImagePlugin._setup does; checks uncompressed strips hold their rows. */
export const readTiff = (b: Uint8Array): TiffInfo => {
  const le = b[0] === 0x49;
  const tags = readIfd(b);
  const one = (tag: number, fallback?: number) => tags.get(tag)?.[0] ?? fallback;
  if (tags.has(TAGS.windowsMediaPhoto)) fail('Windows Media Photo files not yet supported');
  const compression = one(TAGS.compression, 1) as number;
  if (!COMPRESSIONS.has(compression)) fail('unknown compression');
  const photo = compression === 6 ? 6 : (one(TAGS.photometric, 0) as number);
  const width = one(TAGS.width);
  const height = one(TAGS.height);
  if (width === undefined || height === undefined) return fail('no image size');
  let format = tags.get(TAGS.sampleFormat) ?? [1];
  if (format.length > 1 && format.every((f) => f === 1)) format = [1];
  let bps = tags.get(TAGS.bitsPerSample) ?? [1];
  const extra = tags.get(TAGS.extraSamples) ?? [];
  const spp = one(
    TAGS.samplesPerPixel,
    compression === 6 && (photo === 2 || photo === 6) ? 3 : 1,
  ) as number;
  if (spp > 6) fail('Invalid value for samples per pixel');
  if (spp < bps.length) bps = bps.slice(0, spp);
  else if (spp > bps.length && bps.length === 1) bps = Array(spp).fill(bps[0]);
  if (bps.length !== spp) fail('unknown data organization');
  const fill = one(TAGS.fillOrder, 1) as number;
  const mode =
    format.length === 1 ? pillowMode(le, photo, format[0] as number, fill, bps, extra) : undefined;
  if (!mode) return fail('unknown pixel mode');
  if (width <= 0 || height <= 0) fail('not identified by this driver');
  const info = {
    width,
    height,
    mode,
    bitDepth: bps[0] ?? 1,
    photometric: photo,
    pages: pages(b),
    fax: compression >= 2 && compression <= 4,
    tiled: tags.has(TAGS.tileWidth) || tags.has(TAGS.tileLength) || tags.has(TAGS.tileOffsets),
  };
  if (compression !== 1) return { ...info, compressed: true };

  // The raw decoder: each strip (or tile) must hold its rows, or Pillow says "truncated".
  const strips = tags.get(TAGS.stripOffsets);
  const tiles = tags.get(TAGS.tileOffsets);
  if (!strips && !tiles) fail('unknown data organization');
  const w = strips ? width : (one(TAGS.tileWidth) ?? 0);
  const h = strips ? (one(TAGS.rowsPerStrip, height) as number) : (one(TAGS.tileLength) ?? 0);
  const planes = (one(TAGS.planar, 1) as number) === 2 ? spp : 1;
  // YCbCr is unpacked as RGBX: four bytes a pixel whatever the file says.
  const bitsPerPixel = photo === 6 ? 32 : bps.reduce((sum, x) => sum + x, 0) / planes;
  const stride = Math.ceil((w * bitsPerPixel) / 8);
  let [x, y] = [0, 0];
  for (const offset of (strips ?? tiles) as number[]) {
    const rows = Math.min(y + h, height) - y;
    if (rows <= 0 || w <= 0) fail('tile cannot extend outside image');
    if (offset + stride * rows > b.length) fail('image file is truncated');
    x += w;
    if (x >= width) {
      [x, y] = [0, y + h];
      if (y >= height) y = 0;
    }
  }
  return { ...info, compressed: false };
};

/** Directories in the chain (for the facts), guarded against loops. */
const pages = (b: Uint8Array) => {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const le = b[0] === 0x49;
  const seen = new Set<number>();
  let at = view.getUint32(4, le);
  while (at > 0 && at + 2 <= b.length && !seen.has(at) && seen.size < 10_000) {
    seen.add(at);
    const end = at + 2 + view.getUint16(at, le) * 12;
    at = end + 4 <= b.length ? view.getUint32(end, le) : 0;
  }
  return Math.max(1, seen.size);
};
