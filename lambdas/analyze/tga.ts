/**
 * TGA (Targa), as TgaImagePlugin + TgaRleDecode.c read it. TGA has no signature: Pillow tries it
 * on whatever no other plugin claimed, so this reader runs last.
 */

import { NotThisFormat } from './errors.ts';
import type { PillowMode } from './pillow.ts';
import { type FormatReader, fail, ints, needRaw } from './readers.ts';

/** (image type & 7, depth) → bits per pixel of the raw mode Pillow decodes with. */
const RAW_BITS: Record<string, number> = {
  '1,8': 8,
  '3,1': 1,
  '3,8': 8,
  '3,16': 16,
  '2,16': 16,
  '2,24': 24,
  '2,32': 32,
};

export const tga: FormatReader = {
  format: 'tga',
  mediaType: 'image/x-tga',
  accepts: () => true,
  read: (b, checkPixels) => {
    if (b.length < 18) throw new NotThisFormat('IndexError');
    const { u16le } = ints(b);
    const [idLength, mapType, type, depth, flags] = [b[0], b[1], b[2], b[16], b[17]] as number[];
    const [width, height] = [u16le(12), u16le(14)];
    if (
      ![0, 1].includes(mapType as number) ||
      width <= 0 ||
      height <= 0 ||
      ![1, 8, 16, 24, 32].includes(depth as number)
    )
      throw new NotThisFormat('not a TGA file');
    let mode: PillowMode;
    if (type === 3 || type === 11) mode = depth === 1 ? '1' : depth === 16 ? 'LA' : 'L';
    else if (type === 1 || type === 9) mode = 'P';
    else if (type === 2 || type === 10) mode = depth === 32 ? 'RGBA' : 'RGB';
    else throw new NotThisFormat('unknown TGA mode');
    if (
      ((flags as number) & 0x30) !== 0 &&
      ((flags as number) & 0x30) !== 0x10 &&
      ((flags as number) & 0x30) !== 0x20 &&
      ((flags as number) & 0x30) !== 0x30
    )
      fail('unknown TGA orientation');
    checkPixels(width * height);
    let at = 18 + (idLength as number);
    if (mapType) {
      const size = { 16: 2, 24: 3, 32: 4 }[b[7] as number];
      if (size) at += size * u16le(5);
    }
    at = Math.min(at, b.length);
    const bits = RAW_BITS[`${(type as number) & 7},${depth}`];
    // Pillow sets no tile for the other layouts, and load() then fails.
    if (bits === undefined) return fail('cannot load this image');
    const rowBytes = Math.ceil((width * bits) / 8);
    if ((type as number) & 8) replayRle(b, at, Math.ceil((depth as number) / 8), rowBytes, height);
    else needRaw(b, at, height, rowBytes);
    return { width, height, mode, bitDepth: depth as number };
  },
};

/** TgaRleDecode.c, counting bytes: a literal packet carries over into the next row, a run may not. */
const replayRle = (
  b: Uint8Array,
  from: number,
  pixelBytes: number,
  rowBytes: number,
  rows: number,
) => {
  const total = rowBytes * rows;
  let [at, done] = [from, 0];
  for (;;) {
    const head = b[at];
    if (head === undefined) break;
    const n = pixelBytes * ((head & 0x7f) + 1);
    const size = 1 + (head & 0x80 ? pixelBytes : n);
    if (at + size > b.length) break;
    if (head & 0x80 && (done % rowBytes) + n > rowBytes) fail('buffer overrun');
    at += size;
    done += n;
    if (done >= total) return;
  }
  fail('image file is truncated');
};
