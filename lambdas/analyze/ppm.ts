/**
 * PBM/PGM/PPM (binary P4–P6 and plain P1–P3), as PpmImagePlugin reads them: its header tokens,
 * maxval rules (over 255 makes grey 32-bit I) and the data each of its three decoders needs.
 */
import type { PillowMode } from './pillow.ts';
import { type FormatReader, fail, needRaw } from './readers.ts';

const MODES: Record<string, PillowMode> = {
  P1: '1',
  P2: 'L',
  P3: 'RGB',
  P4: '1',
  P5: 'L',
  P6: 'RGB',
  P0CMYK: 'CMYK',
  PyP: 'P',
  PyRGBA: 'RGBA',
  PyCMYK: 'CMYK',
};
const BANDS: Partial<Record<PillowMode, number>> = {
  '1': 1,
  L: 1,
  I: 1,
  P: 1,
  RGB: 3,
  RGBA: 4,
  CMYK: 4,
};

const isSpace = (c: number | undefined) =>
  c !== undefined && (c === 0x20 || (c >= 0x09 && c <= 0x0d));

/** Python's int() on a token: digits with an optional sign and single underscores between. */
const toInt = (token: string) => {
  if (!/^[+-]?\d+(_\d+)*$/.test(token)) fail(`invalid literal for int(): ${token}`);
  return Number(token.replaceAll('_', ''));
};

export const ppm: FormatReader = {
  format: 'ppm',
  mediaType: 'image/x-portable-anymap',
  accepts: (b) => b[0] === 0x50 && '0123456y'.includes(String.fromCharCode(b[1] ?? 0)),
  read: (b, checkPixels) => {
    let at = 0;
    let magic = '';
    for (let i = 0; i < 6 && at < b.length && !isSpace(b[at]); i++)
      magic += String.fromCharCode(b[at++] as number);
    if (at < b.length && isSpace(b[at])) at++;
    const base = MODES[magic];
    if (!base) return fail('not a PPM file');
    const token = () => {
      let t = '';
      while (t.length <= 10) {
        const c = b[at++];
        if (c === undefined) break;
        if (isSpace(c)) {
          if (!t) continue;
          break;
        }
        if (c === 0x23) {
          while (at < b.length && b[at] !== 0x0a && b[at] !== 0x0d) at++;
          at++;
          continue;
        }
        t += String.fromCharCode(c);
      }
      if (!t) fail('Reached EOF while reading header');
      if (t.length > 10) fail('Token too long in file header');
      return toInt(t);
    };
    const width = token();
    const height = token();
    let mode = base;
    let maxval = 255;
    if (base !== '1') {
      maxval = token();
      if (!(maxval > 0 && maxval < 65536))
        fail('maxval must be greater than 0 and less than 65536');
      if (maxval > 255 && base === 'L') mode = 'I';
    }
    if (width <= 0 || height <= 0) fail('not identified by this driver');
    checkPixels(width * height);
    at = Math.min(at, b.length);
    const bands = BANDS[mode] ?? 1;
    const plain = magic === 'P1' || magic === 'P2' || magic === 'P3';
    if (plain) plainValues(b.subarray(at), width * height * bands, base === '1' ? 1 : maxval);
    else if (base === '1') needRaw(b, at, height, Math.ceil(width / 8));
    else if (maxval === 255 || (maxval === 65535 && base === 'L'))
      needRaw(b, at, height, width * bands * (maxval === 65535 ? 2 : 1));
    else if (at + width * height * bands * (maxval < 256 ? 1 : 2) > b.length)
      fail('not enough image data');
    return { width, height, mode, bitDepth: maxval > 255 ? 16 : base === '1' ? 1 : 8 };
  },
};

/** _ignore_comments: "#" to the end of its line goes; an unterminated comment ends the data. */
const withoutComments = (text: string) => {
  let out = text;
  for (;;) {
    const start = out.indexOf('#');
    if (start < 0) return out;
    const ends = [out.indexOf('\n', start), out.indexOf('\r', start)].filter((i) => i >= 0);
    if (ends.length === 0) return out.slice(0, start);
    out = out.slice(0, start) + out.slice(Math.min(...ends) + 1);
  }
};

/**
 * PpmPlainDecoder on data under its 1 MB block: whitespace-separated values each at most maxval.
 * A last value not followed by whitespace is held back and then, a Pillow quirk, repeated until
 * the image is full, so such a file never runs short.
 */
const plainValues = (data: Uint8Array, needed: number, maxval: number) => {
  const text = withoutComments(Buffer.from(data).toString('latin1'));
  const tokens = text.split(/[ \t\n\v\f\r]+/).filter(Boolean);
  if (maxval === 1) {
    // Plain PBM: every character is a value, whitespace optional.
    const digits = tokens.join('');
    if (/[^01]/.test(digits)) fail('Invalid token for this mode');
    if (digits.length < needed) fail('not enough image data');
    return;
  }
  const held = text && !/[ \t\n\v\f\r]$/.test(text) ? tokens.pop() : undefined;
  if (held !== undefined && held.length > 10) fail('Token too long found in data');
  let count = 0;
  for (const t of held === undefined ? tokens : [...tokens, held]) {
    if (t.length > 10) fail('Token too long found in data');
    if (toInt(t) > maxval) fail('Channel value too large for this mode');
    if (++count === needed) return;
  }
  if (held === undefined || needed === 0) fail('not enough image data');
};
