/**
 * ICO and CUR, as IcoImagePlugin and CurImagePlugin read them. ICO: the largest entry (ties go
 * to the deepest colour), a PNG or a DIB whose AND mask (or alpha bytes) Pillow reads to make
 * it RGBA. CUR: the first entry larger in both dimensions, a DIB read as a BMP.
 */
import { readBmp } from './bmp.ts';
import type { PillowMode } from './pillow.ts';
import { isPng, readPng } from './png.ts';
import { type FormatReader, fail, ints } from './readers.ts';

interface Entry {
  width: number;
  height: number;
  bpp: number;
  depth: number;
  size: number;
  offset: number;
}

const entries = (b: Uint8Array) => {
  const { u16le, u32le } = ints(b);
  const list: Entry[] = [];
  for (let i = 0; i < u16le(4); i++) {
    const at = 6 + 16 * i;
    if (at + 16 > b.length) fail('IndexError');
    const [w, h, colours] = [b[at] as number, b[at + 1] as number, b[at + 2] as number];
    const bpp = u16le(at + 6);
    list.push({
      width: w || 256,
      height: h || 256,
      bpp,
      depth: bpp || (colours !== 0 && Math.ceil(Math.log2(colours))) || 256,
      size: u32le(at + 8),
      offset: u32le(at + 12),
    });
  }
  return list;
};

export const ico: FormatReader = {
  format: 'ico',
  mediaType: 'image/vnd.microsoft.icon',
  accepts: (b) => b[0] === 0 && b[1] === 0 && b[2] === 1 && b[3] === 0,
  read: (b, checkPixels) => {
    // Stable sorts by depth then area, reversed: the largest, deepest, last-listed entry.
    const [entry] = entries(b)
      .map((e, i) => ({ e, i }))
      .sort(
        (x, y) =>
          y.e.width * y.e.height - x.e.width * x.e.height || y.e.depth - x.e.depth || y.i - x.i,
      )
      .map(({ e }) => e);
    if (!entry) return fail('IndexError');
    const data = b.subarray(Math.min(entry.offset, b.length));
    let width: number;
    let height: number;
    let mode: PillowMode = 'RGBA';
    if (isPng(data)) {
      ({ width, height, mode } = readPng(data, checkPixels));
    } else {
      const dib = readBmp(b, checkPixels, { at: entry.offset });
      ({ width, height } = dib);
      if (entry.bpp === 32) {
        // The alpha bytes: every fourth byte of width × height pixels.
        if (b.length - dib.dataAt < 4 * width * height - 3) fail('buffer is not large enough');
      } else {
        const padded = width % 32 ? width + 32 - (width % 32) : width;
        const bytes = Math.floor((padded * height) / 8);
        const at = entry.offset + entry.size - bytes;
        if (at < 0) fail('negative seek value');
        if (at + bytes > b.length) fail('not enough image data');
      }
    }
    return { width, height, mode };
  },
};

export const cur: FormatReader = {
  format: 'cur',
  mediaType: 'image/vnd.microsoft.icon',
  accepts: (b) => b[0] === 0 && b[1] === 0 && b[2] === 2 && b[3] === 0,
  read: (b, checkPixels) => {
    let chosen: Entry | undefined;
    for (const e of entries(b))
      if (
        !chosen ||
        ((e.width & 255) > (chosen.width & 255) && (e.height & 255) > (chosen.height & 255))
      )
        chosen = e;
    if (!chosen) return fail('No cursors were found');
    const bmp = readBmp(b, checkPixels, { at: chosen.offset, cursorAlpha: chosen.offset === 22 });
    return { width: bmp.width, height: bmp.height, mode: bmp.mode, bitDepth: bmp.bitDepth };
  },
};
