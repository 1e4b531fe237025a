/**
 * IM (IFUNC Image Memory), as ImImagePlugin reads it: "Key: value" header lines up to a ^Z,
 * an optional 768-byte palette (a non-grey one makes L a P image), then raw rows.
 * IM has no signature either: Pillow tries it on what no plugin with one claimed.
 */

import { NotThisFormat } from './errors.ts';
import type { PillowMode } from './pillow.ts';
import { type FormatReader, fail, needRaw } from './readers.ts';

/** "Image type" value → [mode, bits per pixel of its raw mode]. */
const TYPES: Record<string, [PillowMode, number]> = {
  '0 1 image': ['1', 1],
  'L 1 image': ['1', 1],
  'Greyscale image': ['L', 8],
  'Grayscale image': ['L', 8],
  'RGB image': ['RGB', 24],
  'RLB image': ['RGB', 24],
  'RYB image': ['RGB', 24],
  'B1 image': ['1', 1],
  'B2 image': ['P', 2],
  'B4 image': ['P', 4],
  'X 24 image': ['RGB', 24],
  'L 32 S image': ['I', 32],
  'L 32 F image': ['F', 32],
  'LA image': ['LA', 16],
  'PA image': ['LA', 16],
  'RGBA image': ['RGBA', 32],
  'RGBX image': ['RGBX', 32],
  'CMYK image': ['CMYK', 32],
  'YCC image': ['YCbCr', 24],
};
for (const sep of [' ', '*']) {
  for (const [n, bits] of [
    ['8', 8],
    ['8S', 8],
    ['16', 16],
    ['16S', 16],
    ['32', 32],
    ['32F', 32],
  ] as const)
    TYPES[`L${sep}${n} image`] = ['F', bits];
  for (const n of ['16', '16L', '16B']) TYPES[`L${sep}${n} image`] = [`I;${n}` as PillowMode, 16];
  TYPES[`L${sep}32S image`] = ['I', 32];
}
for (let i = 2; i < 33; i++) TYPES[`L*${i} image`] = ['F', i];

const TAGS = new Set([
  'Comment',
  'Date',
  'Digitalization equipment',
  'File size (no of images)',
  'Lut',
  'Name',
  'Scale (x,y)',
  'Image size (x*y)',
  'Image type',
]);
const LINE = /^([A-Za-z][^:]*):[ \t]*(.*)[ \t]*$/s;

const notIm = (message: string): never => {
  throw new NotThisFormat(message);
};

/** Python's number(): int(), else float(), else ValueError. */
const number = (s: string) => {
  const t = s.trim();
  if (/^[+-]?\d+$/.test(t)) return Number(t);
  if (t !== '' && !Number.isNaN(Number(t))) return Number(t);
  return fail(`could not convert string to float: ${s}`);
};

export const im: FormatReader = {
  format: 'im',
  mediaType: 'application/octet-stream',
  accepts: () => true,
  read: (b, checkPixels) => {
    if (!b.subarray(0, 100).includes(0x0a)) notIm('not an IM file');
    const text = (from: number, to: number) => Buffer.from(b.subarray(from, to)).toString('latin1');
    let size: unknown = [512, 512];
    let type = 'Greyscale image';
    let lut = false;
    let tags = 0;
    let at = 0;
    let last: number | undefined;
    for (;;) {
      last = b[at++];
      if (last === 0x0d) continue;
      if (last === undefined || last === 0 || last === 0x1a) break;
      const newline = b.indexOf(0x0a, at);
      const end = newline < 0 ? b.length : newline + 1;
      let line = text(at - 1, end);
      at = end;
      if (line.length > 100) notIm('not an IM file');
      line = line.endsWith('\r\n')
        ? line.slice(0, -2)
        : line.endsWith('\n')
          ? line.slice(0, -1)
          : line;
      const m = LINE.exec(line);
      if (!m) return notIm('Syntax error in IM header');
      const [key, value] = [m[1] as string, m[2] as string];
      if (key === 'Image size (x*y)') {
        const v = value.replaceAll('*', ',').split(',').map(number);
        size = v.length === 1 ? v[0] : v;
      } else if (key === 'File size (no of images)' || key === 'Scale (x,y)') {
        value.replaceAll('*', ',').split(',').map(number);
      } else if (key === 'Image type') type = value;
      else if (key === 'Lut') lut = true;
      if (TAGS.has(key)) tags++;
    }
    if (!tags) notIm('Not an IM file');
    while (last !== undefined && last !== 0x1a) last = b[at++];
    if (last === undefined) notIm('File truncated');
    const known = TYPES[type];
    if (!known) return fail(`unknown IM mode ${type}`);
    if (!Array.isArray(size) || size.length !== 2 || !size.every(Number.isInteger))
      return notIm('bad size');
    const [width, height] = size as [number, number];
    let [mode, bits] = known;
    if (lut) {
      const palette = b.subarray(at, at + 768);
      at += palette.length;
      if (palette.length < 768) notIm('IndexError');
      let grey = true;
      for (let i = 0; i < 256; i++)
        if (palette[i] !== palette[i + 256] || palette[i] !== palette[i + 512]) grey = false;
      if (!grey && (mode === 'L' || mode === 'P')) [mode, bits] = ['P', 8];
      else if (!grey && mode === 'LA') mode = 'PA';
    }
    if (width <= 0 || height <= 0) notIm('not identified by this driver');
    checkPixels(width * height);
    if (type === 'RGB3 image' || type === 'RYB3 image') needRaw(b, at, 3 * height, width);
    else needRaw(b, at, height, Math.ceil((width * bits) / 8));
    return { width, height, mode, bitDepth: bits };
  },
};
