/**
 * JPEG 2000 (J2K codestream or JP2 file), as Jpeg2KImagePlugin reads its header: size and mode
 * from SIZ or from the JP2 ihdr box. Pillow's OpenJPEG decode fails when the codestream is cut
 * short, while it mends damaged entropy data; so the data check is structural: the tile-parts
 * that SOT markers announce must all be there and the codestream must end with EOC.
 */
import type { PillowMode } from './pillow.ts';
import { type FormatReader, fail, ints } from './readers.ts';

const SOC = [0xff, 0x4f, 0xff, 0x51];
const JP2 = [0, 0, 0, 0x0c, 0x6a, 0x50, 0x20, 0x20, 0x0d, 0x0a, 0x87, 0x0a];

const startsWith = (b: Uint8Array, prefix: number[], at = 0) =>
  prefix.every((v, i) => b[at + i] === v);

const modeOf = (components: number, precision: number): PillowMode | undefined =>
  components === 1
    ? (precision & 0x7f) > 8
      ? 'I;16'
      : 'L'
    : ({ 2: 'LA', 3: 'RGB', 4: 'RGBA' } as Record<number, PillowMode>)[components];

export const jpeg2000: FormatReader = {
  format: 'jpeg2000',
  mediaType: 'image/jp2',
  accepts: (b) => startsWith(b, SOC) || startsWith(b, JP2),
  read: (b, checkPixels) => {
    const { u16be, u32be } = ints(b);
    let width: number;
    let height: number;
    let mode: PillowMode | undefined;
    let codestream: number;
    let end = b.length;
    if (startsWith(b, SOC)) {
      // SIZ: Lsiz, Rsiz, Xsiz, Ysiz, XOsiz, YOsiz, 4 tile fields, Csiz, then 3 bytes a component.
      const siz = 4;
      width = u32be(siz + 4) - u32be(siz + 12);
      height = u32be(siz + 8) - u32be(siz + 16);
      const components = u16be(siz + 36);
      // Pillow reads the precision from the YRsiz byte (a bug kept for parity).
      mode = modeOf(components, components >= 1 ? (b[siz + 38 + 2] ?? fail('struct.error')) : 0);
      codestream = 0;
    } else {
      let at = 12;
      let header: { width: number; height: number; mode: PillowMode | undefined } | undefined;
      let found: [number, number] | undefined;
      while (at + 8 <= b.length && !found) {
        let length = u32be(at);
        const type = Buffer.from(b.subarray(at + 4, at + 8)).toString('latin1');
        let data = at + 8;
        if (length === 1)
          [length, data] = [
            Number(
              b.length >= at + 16 ? u32be(at + 8) * 2 ** 32 + u32be(at + 12) : fail('struct.error'),
            ),
            at + 16,
          ];
        const boxEnd = length === 0 ? b.length : at + length;
        if (length !== 0 && length < data - at) fail('Invalid header length');
        if (type === 'jp2h') header = ihdr(b, data, Math.min(boxEnd, b.length));
        if (type === 'jp2c') found = [data, Math.min(boxEnd, b.length)];
        at = boxEnd;
      }
      if (!header) return fail('Malformed JP2 header');
      ({ width, height, mode } = header);
      if (!found) return fail('no codestream');
      [codestream, end] = found;
    }
    if (!mode) return fail('unable to determine size/mode');
    if (width <= 0 || height <= 0) fail('not identified by this driver');
    checkPixels(width * height);
    walkCodestream(b, codestream, end);
    return { width, height, mode, bitDepth: mode === 'I;16' ? 16 : 8 };
  },
};

/** The ihdr box inside jp2h: height, width, components, bits per component. */
const ihdr = (b: Uint8Array, from: number, to: number) => {
  const { u16be, u32be } = ints(b);
  let at = from;
  let result: { width: number; height: number; mode: PillowMode | undefined } | undefined;
  while (at + 8 <= to) {
    const length = u32be(at);
    if (length < 8 || at + length > to) fail('Invalid header length');
    if (Buffer.from(b.subarray(at + 4, at + 8)).toString('latin1') === 'ihdr') {
      if (length < 8 + 11) fail('Not enough data in header');
      result = {
        height: u32be(at + 8),
        width: u32be(at + 12),
        mode: modeOf(u16be(at + 16), b[at + 18] as number),
      };
    }
    at += length;
  }
  return result;
};

/** Main header markers up to the first SOT, then tile-parts by their Psot lengths, then EOC. */
const walkCodestream = (b: Uint8Array, from: number, to: number) => {
  const { u16be, u32be } = ints(b.subarray(0, to));
  if (!startsWith(b, SOC, from)) fail('codestream does not start with SOC SIZ');
  // OpenJPEG's SIZ checks: the tile grid must start at or before the image and overlap it.
  const siz = (field: number) => u32be(from + 8 + 4 * field);
  const [x, y, x0, y0, tw, th, tx0, ty0] = [
    siz(0),
    siz(1),
    siz(2),
    siz(3),
    siz(4),
    siz(5),
    siz(6),
    siz(7),
  ];
  if (
    !(
      tx0 <= x0 &&
      ty0 <= y0 &&
      tw > 0 &&
      th > 0 &&
      tx0 + tw > x0 &&
      ty0 + th > y0 &&
      x > x0 &&
      y > y0
    )
  )
    fail('Error with SIZ marker: illegal tile offset');
  let at = from + 2;
  while (u16be(at) !== 0xff90) {
    if (b[at] !== 0xff) fail('expected a marker');
    const length = u16be(at + 2);
    if (length < 2) fail('bad marker length');
    at += 2 + length;
  }
  for (;;) {
    const marker = u16be(at);
    if (marker === 0xffd9) return;
    if (marker !== 0xff90) fail('expected SOT or EOC');
    const psot = u32be(at + 6);
    if (psot === 0) {
      if (u16be(to - 2) !== 0xffd9) fail('Stream too short');
      return;
    }
    if (psot < 14) fail('bad tile-part length');
    at += psot;
  }
};
