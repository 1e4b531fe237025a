/**
 * SPIDER (2D electron-microscopy images), as SpiderImagePlugin reads it: a header of floats,
 * big-endian tried first, then 32-bit float pixels. No signature: Pillow tries it late.
 */
import { NotThisFormat } from './errors.ts';
import { type FormatReader, fail, needRaw } from './readers.ts';

const isInt = (f: number) => Number.isFinite(f) && Number.isInteger(f);

/** isSpiderHeader: the header length, or 0 when these floats are not a SPIDER header. */
const headerLength = (h: number[]) => {
  for (const i of [1, 2, 5, 12, 13, 22, 23]) if (!isInt(h[i] as number)) return 0;
  if (![1, 3, -11, -12, -21, -22].includes(Math.trunc(h[5] as number))) return 0;
  const [records, bytes, length] = [h[13], h[22], h[23]].map((v) =>
    Math.trunc(v as number),
  ) as number[];
  return bytes === (records as number) * (length as number) ? (bytes as number) : 0;
};

export const spider: FormatReader = {
  format: 'spider',
  mediaType: 'application/octet-stream',
  accepts: () => true,
  read: (b, checkPixels) => {
    if (b.length < 108) throw new NotThisFormat('not a valid Spider file');
    const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    let h: number[] = [];
    let length = 0;
    for (const littleEndian of [false, true]) {
      h = [99, ...Array.from({ length: 27 }, (_, i) => view.getFloat32(i * 4, littleEndian))];
      length = headerLength(h);
      if (length) break;
    }
    if (!length) throw new NotThisFormat('not a valid Spider file');
    if (Math.trunc(h[5] as number) !== 1) throw new NotThisFormat('not a Spider 2D image');
    const [width, height] = [Math.trunc(h[12] as number), Math.trunc(h[2] as number)];
    const [stack, number] = [Math.trunc(h[24] as number), Math.trunc(h[27] as number)];
    let offset: number;
    if (stack === 0 && number === 0) offset = length;
    else if (stack > 0 && number === 0) offset = length * 2;
    else if (stack === 0 && number > 0) return fail('stack offset unknown');
    else throw new NotThisFormat('inconsistent stack header values');
    if (width <= 0 || height <= 0) throw new NotThisFormat('not identified by this driver');
    checkPixels(width * height);
    needRaw(b, offset, height, width * 4);
    return { width, height, mode: 'F', bitDepth: 32 };
  },
};
