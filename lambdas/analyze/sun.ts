/** Sun raster, as SunImagePlugin reads it: rows padded to 16 bits, verbatim or run-length. */
import type { PillowMode } from './pillow.ts';
import { type FormatReader, fail, ints, needRaw } from './readers.ts';

/** Depth → [mode, bits per pixel of the raw mode]. */
const DEPTHS: Record<number, [PillowMode, number]> = {
  1: ['1', 1],
  4: ['L', 4],
  8: ['L', 8],
  24: ['RGB', 24],
  32: ['RGB', 32],
};

export const sun: FormatReader = {
  format: 'sun',
  mediaType: 'image/x-sun-raster',
  accepts: (b) => b[0] === 0x59 && b[1] === 0xa6 && b[2] === 0x6a && b[3] === 0x95,
  read: (b, checkPixels) => {
    if (b.length < 32) fail('struct.error');
    const { u32be } = ints(b);
    const [width, height, depth, type, paletteType, paletteLength] = [4, 8, 12, 20, 24, 28].map(
      u32be,
    ) as number[];
    let [mode, bits] = DEPTHS[depth as number] ?? fail('Unsupported Mode/Bit Depth');
    let offset = 32;
    if (paletteLength) {
      if ((paletteLength as number) > 1024) fail('Unsupported Color Palette Length');
      if (paletteType !== 1) fail('Unsupported Palette Type');
      offset += paletteLength as number;
      if (mode === 'L') mode = 'P';
    }
    if (![0, 1, 2, 3, 4, 5].includes(type as number)) fail('Unsupported Sun Raster file type');
    if (!width || !height) fail('not identified by this driver');
    checkPixels((width as number) * (height as number));
    const rowBytes = Math.ceil(((width as number) * bits) / 8);
    if (type === 2) replayRle(b, offset, rowBytes * (height as number));
    else
      needRaw(
        b,
        offset,
        height as number,
        rowBytes,
        Math.floor(((width as number) * (depth as number) + 15) / 16) * 2,
      );
    return { width: width as number, height: height as number, mode, bitDepth: depth as number };
  },
};

/** SunRleDecode.c, counting bytes: 0x80 0 is a literal 0x80, 0x80 n v a run of n + 1. */
const replayRle = (b: Uint8Array, from: number, needed: number) => {
  let [at, done] = [from, 0];
  while (done < needed) {
    if (at >= b.length) fail('image file is truncated');
    if (b[at] === 0x80) {
      if (at + 2 > b.length) fail('image file is truncated');
      if (b[at + 1] === 0) [at, done] = [at + 2, done + 1];
      else {
        if (at + 3 > b.length) fail('image file is truncated');
        [at, done] = [at + 3, done + (b[at + 1] as number) + 1];
      }
    } else [at, done] = [at + 1, done + 1];
  }
};
