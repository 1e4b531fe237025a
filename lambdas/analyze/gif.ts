/**
 * GIF, read the way Pillow 9.4's GifImagePlugin + GifDecode.c read the first frame: the image is
 * the logical screen grown to hold the first frame, and it loads when the LZW data yields every
 * pixel of that frame before the file ends. Pillow ignores the end code and reads block sizes
 * past the frame's terminator, so a GIF without a trailer loads while a frame short of pixels
 * fails. Only string lengths are tracked, never pixels: far cheaper than decoding.
 */
import type { PillowMode } from './pillow.ts';
import { type FormatReader, fail } from './readers.ts';

const isGif = (bytes: Uint8Array) => {
  const magic = String.fromCharCode(...bytes.subarray(0, 6));
  return magic === 'GIF87a' || magic === 'GIF89a';
};

export interface GifInfo {
  width: number;
  height: number;
  mode: PillowMode;
  frames: number;
  interlaced: boolean;
  hasTransparency: boolean;
}

/** A reader over the bytes with Python file semantics: short reads at the end. */
class Reader {
  at: number;
  readonly bytes: Uint8Array;
  constructor(bytes: Uint8Array, at: number) {
    this.bytes = bytes;
    this.at = at;
  }
  read(n: number) {
    const out = this.bytes.subarray(this.at, this.at + n);
    this.at += out.length;
    return out;
  }
  /** GifImageFile.data(): one sub-block, or undefined at a terminator or the end. */
  data() {
    const size = this.read(1)[0];
    return size ? this.read(size) : undefined;
  }
}

const u16 = (b: Uint8Array | undefined, at: number) => {
  if (!b || b.length < at + 2) fail('struct.error');
  return (b?.[at] as number) | ((b?.[at + 1] as number) << 8);
};

/** Pillow drops a palette that is the identity grey ramp (the frame is then mode L). */
const paletteNeeded = (p: Uint8Array) => {
  for (let i = 0; i < p.length; i += 3) {
    if (Math.floor(i / 3) !== p[i]) return true;
    if (i + 1 >= p.length) fail('IndexError');
    if (p[i] !== p[i + 1]) return true;
    if (i + 2 >= p.length) fail('IndexError');
    if (p[i + 1] !== p[i + 2]) return true;
  }
  return false;
};

const readGif = (bytes: Uint8Array, checkPixels: (pixels: number) => void): GifInfo => {
  const r = new Reader(bytes, 0);
  const header = r.read(13);
  let width = u16(header, 6);
  let height = u16(header, 8);
  const flags = header[10];
  if (flags === undefined) fail('IndexError');
  let globalPalette = false;
  if ((flags as number) & 128)
    globalPalette = paletteNeeded(r.read(3 << (((flags as number) & 7) + 1)));

  // _seek(0): extensions until the first image descriptor.
  let s = r.read(1)[0];
  if (s === undefined || s === 0x3b) fail('no frame');
  let transparency = false;
  let frame:
    | { x0: number; y0: number; x1: number; y1: number; interlaced: boolean; bits: number }
    | undefined;
  let palette: boolean | undefined;
  for (;;) {
    if (s === undefined) s = r.read(1)[0];
    if (s === undefined || s === 0x3b) break;
    if (s === 0x21) {
      const label = r.read(1)[0];
      if (label === undefined) fail('IndexError');
      let block = r.data();
      if (label === 249) {
        if (!block) fail('TypeError');
        const gce = block as Uint8Array;
        if ((gce[0] as number) & 1) {
          if (gce.length < 4) fail('IndexError');
          transparency = true;
        }
        u16(gce, 1);
      } else if (label === 254) {
        while (block) block = r.data();
        s = undefined;
        continue;
      } else if (label === 255) {
        if (!block) fail('TypeError');
        if (String.fromCharCode(...(block as Uint8Array).subarray(0, 11)) === 'NETSCAPE2.0') {
          block = r.data();
          if (!block) fail('TypeError');
        }
      }
      while (r.data());
    } else if (s === 0x2c) {
      const d = r.read(9);
      const x0 = u16(d, 0);
      const y0 = u16(d, 2);
      const x1 = x0 + u16(d, 4);
      const y1 = y0 + u16(d, 6);
      if (x1 > width || y1 > height) {
        width = Math.max(x1, width);
        height = Math.max(y1, height);
        checkPixels(width * height);
      }
      const f = d[8];
      if (f === undefined) fail('IndexError');
      if ((f as number) & 128) palette = paletteNeeded(r.read(3 << (((f as number) & 7) + 1)));
      const bits = r.read(1)[0];
      if (bits === undefined) fail('IndexError');
      frame = { x0, y0, x1, y1, interlaced: ((f as number) & 64) !== 0, bits: bits as number };
      break;
    }
    s = undefined;
  }
  if (!frame) return fail('no frame');
  const mode: PillowMode = (palette ?? globalPalette) ? 'P' : 'L';
  if (width <= 0 || height <= 0) fail('not identified by this driver');
  checkPixels(width * height);
  const xsize = frame.x1 - frame.x0;
  const ysize = frame.y1 - frame.y0;
  if (xsize <= 0 || ysize <= 0) fail('tile cannot extend outside image');
  if (frame.bits > 12) fail('bad LZW code size');
  // The frame's own data nearly always holds every pixel; only when it does not is the rest of
  // the file joined and counted again from the start, the way Pillow reads on.
  const pixels = xsize * ysize;
  if (
    !countsPixels(joinSubBlocks(bytes, r.at, false), frame.bits, pixels) &&
    !countsPixels(joinSubBlocks(bytes, r.at, true), frame.bits, pixels)
  )
    fail('image file is truncated');
  return {
    width,
    height,
    mode,
    frames: countFrames(bytes, r.at),
    interlaced: frame.interlaced,
    hasTransparency: transparency,
  };
};

const GIFTABLE = 4096;
const GIFBUFFER = 4096;

/**
 * The frame's LZW data as GifDecode.c gets it: complete sub-blocks joined (a sub-block is only
 * decoded once all of it is there), up to the frame's terminator or, with `pastTerminator`, on
 * through the rest of the file, where Pillow reads block sizes past the terminator (a zero
 * being an empty block).
 */
const joinSubBlocks = (bytes: Uint8Array, from: number, pastTerminator: boolean) => {
  let size = 0;
  let at = from;
  for (
    let n = bytes[at];
    n !== undefined && (n > 0 || pastTerminator) && at + 1 + n <= bytes.length;
    n = bytes[at]
  ) {
    size += n;
    at += 1 + n;
  }
  const data = new Uint8Array(size);
  for (let i = 0, p = from; i < size; ) {
    const n = bytes[p] as number;
    data.set(bytes.subarray(p + 1, p + 1 + n), i);
    i += n;
    p += 1 + n;
  }
  return data;
};

/**
 * GifDecode.c over `data`, counting pixels in a tight loop: true when every pixel of the frame
 * is there, false when the data runs out first. Throws where Pillow raises (a code past the
 * table, a string longer than its buffer).
 */
const countsPixels = (data: Uint8Array, bits: number, pixels: number) => {
  const size = data.length;
  const clear = 1 << bits;
  const end = clear + 1;
  const length = new Uint16Array(GIFTABLE).fill(1, 0, clear);
  // Codes are LSB-first: the low `held` bits of `buffer` are unread. Plain assignments only:
  // this loop runs once per code, millions of times for a large frame.
  let buffer = 0;
  let held = 0;
  let pos = 0;
  let next = clear + 2;
  let codesize = bits + 1;
  let codemask = (1 << codesize) - 1;
  let afterClear = true;
  let lastcode = 0;
  let done = 0;
  for (;;) {
    if (held < codesize) {
      if (pos + 2 > size) {
        if (pos === size) return false;
        buffer |= (data[pos++] as number) << held;
        held += 8;
        if (held < codesize) continue;
      } else {
        // Two bytes at once: at most 11 bits are held, so 27 fit.
        buffer |= ((data[pos] as number) | ((data[pos + 1] as number) << 8)) << held;
        pos += 2;
        held += 16;
      }
    }
    const c = buffer & codemask;
    buffer >>>= codesize;
    held -= codesize;
    if (c === clear) {
      if (!afterClear) {
        next = clear + 2;
        codesize = bits + 1;
        codemask = (1 << codesize) - 1;
        afterClear = true;
      }
      continue;
    }
    if (c === end) continue;
    if (afterClear) {
      if (c > clear) fail('broken data stream');
      lastcode = c;
      afterClear = false;
      done += 1;
    } else {
      if (c > next) fail('broken data stream');
      const run = c === next ? (length[lastcode] as number) + 1 : (length[c] as number);
      if (run > GIFBUFFER) fail('broken data stream');
      if (next < GIFTABLE) {
        length[next] = (length[lastcode] as number) + 1;
        if (next === codemask && codesize < 12) codemask = (1 << ++codesize) - 1;
        next++;
      }
      lastcode = c;
      done += run;
    }
    if (done >= pixels) return true;
  }
};

/** Frames in the file, for the facts (Pillow counts them only when asked; we do it cheaply). */
const countFrames = (bytes: Uint8Array, from: number) => {
  const r = new Reader(bytes, from);
  while (r.data());
  let frames = 1;
  for (;;) {
    const s = r.read(1)[0];
    if (s === undefined || s === 0x3b) return frames;
    if (s === 0x21) {
      r.read(1);
      while (r.data());
    } else if (s === 0x2c) {
      const d = r.read(9);
      if ((d[8] ?? 0) & 128) r.read(3 << (((d[8] as number) & 7) + 1));
      r.read(1);
      while (r.data());
      frames++;
    } else if (s !== 0) return frames;
  }
};

export const gif: FormatReader = {
  format: 'gif',
  mediaType: 'image/gif',
  accepts: isGif,
  read: (b, checkPixels) => {
    const info = readGif(b, checkPixels);
    return {
      ...info,
      hasAlpha: info.hasTransparency,
      isPalette: true,
      colourSpace: 'srgb',
      pages: info.frames,
      isProgressive: info.interlaced,
    };
  },
};
