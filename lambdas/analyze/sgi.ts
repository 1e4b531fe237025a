/**
 * SGI (Silicon Graphics image), as SgiImagePlugin + SgiRleDecode.c read it: planes stored one
 * after the other, verbatim or as run-length rows found through offset and length tables.
 */
import type { PillowMode } from './pillow.ts';
import { type FormatReader, fail, ints } from './readers.ts';

/** (bytes per channel, dimension, channels) → mode; 16-bit channels decode to 8-bit modes. */
const MODES: Record<string, PillowMode> = {
  '1,1,1': 'L',
  '1,2,1': 'L',
  '2,1,1': 'L',
  '2,2,1': 'L',
  '1,3,3': 'RGB',
  '2,3,3': 'RGB',
  '1,3,4': 'RGBA',
  '2,3,4': 'RGBA',
};
const HEADER = 512;

export const sgi: FormatReader = {
  format: 'sgi',
  mediaType: 'image/sgi',
  accepts: (b) => b.length >= 2 && b[0] === 0x01 && b[1] === 0xda, // 474, big-endian
  read: (b, checkPixels) => {
    const { u16be } = ints(b);
    const [compression, bpc] = [b[2] as number, b[3] as number];
    const [dimension, width, height, channels] = [u16be(4), u16be(6), u16be(8), u16be(10)];
    const mode = MODES[`${bpc},${dimension},${channels}`];
    if (!mode) return fail('Unsupported SGI image mode');
    if (width <= 0 || height <= 0) fail('not identified by this driver');
    checkPixels(width * height);
    const bands = mode === 'L' ? 1 : mode === 'RGB' ? 3 : 4;
    if (compression === 0) {
      // One raw tile a plane (or the SGI16 decoder over all of them): every plane in full.
      if (HEADER + width * height * bpc * bands > b.length) fail('image file is truncated');
    } else if (compression === 1) replayRle(b, width, height, bands, bpc);
    else fail('cannot load this image');
    return { width, height, mode, bitDepth: 8 * bpc };
  },
};

/** SgiRleDecode.c: tables of row offsets and lengths, each row expanded within the file. */
const replayRle = (b: Uint8Array, width: number, height: number, bands: number, bpc: number) => {
  const size = b.length - HEADER;
  const rows = bands * height;
  if (size < rows * 8) fail('buffer overflow');
  const view = new DataView(b.buffer, b.byteOffset + HEADER, size);
  const end = size - 1; // the last byte is never used by a copy run (the decoder's bound)
  for (let row = 0; row < height; row++) {
    for (let channel = 0; channel < bands; channel++) {
      const i = row + channel * height;
      const start = view.getUint32(i * 4);
      const length = view.getUint32((rows + i) * 4);
      if (start < HEADER) fail('buffer overrun');
      const offset = start - HEADER;
      const status = expandRow(view, offset, length, width, end, bpc);
      if (status === -1) fail('buffer overrun');
      if (status === 1) return; // the decoder stops there, without an error
    }
  }
};

/** expandrow/expandrow2: n counts packets, not bytes, as in the C code. */
const expandRow = (
  view: DataView,
  from: number,
  packets: number,
  width: number,
  end: number,
  bpc: number,
) => {
  const read = (at: number) => (bpc === 1 ? view.getUint8(at) : view.getUint16(at));
  let [src, x] = [from, 0];
  for (let n = packets; n > 0; n--) {
    if (src > end) return -1;
    const pixel = read(src);
    src += bpc;
    if (n === 1 && pixel !== 0) return 1;
    const count = pixel & 0x7f;
    if (!count) return 0;
    if (x + count > width) return -1;
    x += count;
    if (pixel & 0x80) {
      if (src + count * bpc > end) return -1;
      src += count * bpc;
    } else {
      if (src > end) return -1;
      src += bpc;
    }
  }
  return 0;
};
