/**
 * ICNS (Mac OS icons), as IcnsImagePlugin reads it: the largest size it knows an entry for, made
 * from a PNG or JPEG 2000 entry, or from PackBits-like RGB and an 8-bit mask.
 */
import { jpeg2000 } from './jpeg2000.ts';
import type { PillowMode } from './pillow.ts';
import { isPng, readPng } from './png.ts';
import { type FormatReader, fail, ints } from './readers.ts';

type Kind = 'png' | 'rgb' | 'rgbt' | 'mask';
/** IcnsFile.SIZES, largest first: (width, height, scale) → entry types. */
const SIZES: [[number, number, number], [string, Kind][]][] = [
  [[512, 512, 2], [['ic10', 'png']]],
  [[512, 512, 1], [['ic09', 'png']]],
  [[256, 256, 2], [['ic14', 'png']]],
  [[256, 256, 1], [['ic08', 'png']]],
  [[128, 128, 2], [['ic13', 'png']]],
  [
    [128, 128, 1],
    [
      ['ic07', 'png'],
      ['it32', 'rgbt'],
      ['t8mk', 'mask'],
    ],
  ],
  [[64, 64, 1], [['icp6', 'png']]],
  [
    [48, 48, 1],
    [
      ['ih32', 'rgb'],
      ['h8mk', 'mask'],
    ],
  ],
  [[32, 32, 2], [['ic12', 'png']]],
  [
    [32, 32, 1],
    [
      ['icp5', 'png'],
      ['il32', 'rgb'],
      ['l8mk', 'mask'],
    ],
  ],
  [[16, 16, 2], [['ic11', 'png']]],
  [
    [16, 16, 1],
    [
      ['icp4', 'png'],
      ['is32', 'rgb'],
      ['s8mk', 'mask'],
    ],
  ],
];

export const icns: FormatReader = {
  format: 'icns',
  mediaType: 'image/icns',
  accepts: (b) => Buffer.from(b.subarray(0, 4)).toString('latin1') === 'icns',
  read: (b, checkPixels) => {
    const { u32be } = ints(b);
    const entries = new Map<string, [number, number]>();
    const declared = u32be(4);
    for (let at = 8; at < declared; ) {
      const type = Buffer.from(b.subarray(at, at + 4)).toString('latin1');
      const size = u32be(at + 4);
      if (size <= 0 || size >= 2 ** 31) fail('invalid block header');
      entries.set(type, [at + 8, size - 8]);
      at += size;
    }
    const best = SIZES.find(([, kinds]) => kinds.some(([type]) => entries.has(type)));
    if (!best) return fail('No 32bit icon resources found');
    const [[w, h, scale], kinds] = best;
    let image: { width: number; height: number; mode: PillowMode } | undefined;
    let rgb = false;
    let mask = false;
    for (const [type, kind] of kinds) {
      const entry = entries.get(type);
      if (!entry) continue;
      const [start, length] = entry;
      if (kind === 'png') image = embedded(b, start, length, checkPixels);
      else if (kind === 'mask') {
        if (start + w * h * scale * scale > b.length) fail('buffer is not large enough');
        mask = true;
      } else {
        if (kind === 'rgbt' && u32be(start) !== 0) fail('Unknown signature, expecting 0x00000000');
        const offset = kind === 'rgbt' ? 4 : 0;
        channels(b, start + offset, length - offset, w * h * scale * scale);
        rgb = true;
      }
    }
    if (image) return image;
    if (!rgb) return fail("'NoneType' object has no attribute 'copy'");
    return { width: w * scale, height: h * scale, mode: mask ? 'RGBA' : 'RGB' };
  },
};

/** read_png_or_jpeg2000: Pillow keeps a PNG's own mode and size; JPEG 2000 becomes RGBA. */
const embedded = (
  b: Uint8Array,
  start: number,
  length: number,
  checkPixels: (n: number) => void,
) => {
  const data = b.subarray(Math.min(start, b.length));
  if (isPng(data)) {
    const png = readPng(data, checkPixels);
    return { width: png.width, height: png.height, mode: png.mode };
  }
  const stream = data.subarray(0, Math.max(0, length));
  if (!jpeg2000.accepts(stream)) return fail('Unsupported icon subimage format');
  const j2k = jpeg2000.read(stream, checkPixels);
  return { width: j2k.width, height: j2k.height, mode: 'RGBA' as PillowMode };
};

/** read_32: raw RGB when the length says so, else three PackBits-like channels, exactly full. */
const channels = (b: Uint8Array, start: number, length: number, pixels: number) => {
  if (length === pixels * 3) {
    if (start + length > b.length) fail('not enough image data');
    return;
  }
  let at = start;
  for (let band = 0; band < 3; band++) {
    let left = pixels;
    let got = 0;
    while (left > 0) {
      const byte = b[at++];
      if (byte === undefined) break;
      if (byte & 0x80) {
        const run = byte - 125;
        if (at < b.length) got += run;
        at++;
        left -= run;
      } else {
        const run = byte + 1;
        got += Math.min(run, Math.max(0, b.length - at));
        at += run;
        left -= run;
      }
    }
    if (left !== 0) fail('Error reading channel');
    if (got < pixels) fail('buffer is not large enough');
  }
};
