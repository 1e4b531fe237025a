/**
 * DDS (DirectDraw Surface), as DdsImagePlugin reads it: uncompressed luminance or RGB(A) by
 * channel masks, or BC1–BC7 blocks. The raw data starts right after the header whatever the
 * header's pitch says, as in Pillow.
 */
import type { PillowMode } from './pillow.ts';
import { type FormatReader, fail, ints, needRaw } from './readers.ts';

const LUMINANCE = 0x20000;
const RGB = 0x40;
const ALPHA = 0x1;

/** FourCC or DXGI format → [mode, bytes per 4×4 block]. */
const FOURCC: Record<string, [PillowMode, number]> = {
  DXT1: ['RGBA', 8],
  DXT3: ['RGBA', 16],
  DXT5: ['RGBA', 16],
  ATI1: ['L', 8],
  ATI2: ['RGB', 16],
  BC5S: ['RGB', 16],
};
const DXGI: Record<number, [PillowMode, number]> = {
  82: ['RGB', 16],
  83: ['RGB', 16],
  84: ['RGB', 16],
  95: ['RGB', 16],
  96: ['RGB', 16],
  97: ['RGBA', 16],
  98: ['RGBA', 16],
  99: ['RGBA', 16],
};

export const dds: FormatReader = {
  format: 'dds',
  mediaType: 'image/vnd-ms.dds',
  accepts: (b) => String.fromCharCode(...b.subarray(0, 4)) === 'DDS ',
  read: (b, checkPixels) => {
    const { u32le } = ints(b);
    if (u32le(4) !== 124) fail('Unsupported header size');
    if (b.length < 128) fail('Incomplete header');
    const [height, width] = [u32le(12), u32le(16)];
    const flags = u32le(80);
    const fourcc = String.fromCharCode(...b.subarray(84, 88));
    const masks = [u32le(92), u32le(96), u32le(100), u32le(104)];
    if (width <= 0 || height <= 0) fail('not identified by this driver');
    let mode: PillowMode;
    let pixelBits: number | undefined;
    let block: number | undefined;
    let start = 128;
    if (flags & LUMINANCE) {
      mode = flags & ALPHA ? 'LA' : 'L';
      pixelBits = flags & ALPHA ? 16 : 8;
    } else if (flags & RGB) {
      // The raw mode is built from the masks: each of these must be one of them.
      const wanted = [0xff0000, 0xff00, 0xff, ...(flags & ALPHA ? [0xff000000] : [])];
      if (!wanted.every((m) => masks.includes(m))) fail('KeyError: mask');
      mode = flags & ALPHA ? 'RGBA' : 'RGB';
      pixelBits = 8 * wanted.length;
    } else if (fourcc === 'DX10') {
      const format = u32le(128);
      start += 20;
      if (format >= 27 && format <= 29) [mode, pixelBits] = ['RGBA', 32];
      else [mode, block] = DXGI[format] ?? fail(`Unimplemented DXGI format ${format}`);
    } else [mode, block] = FOURCC[fourcc] ?? fail(`Unimplemented pixel format ${fourcc}`);
    checkPixels(width * height);
    if (pixelBits !== undefined) needRaw(b, start, height, (width * pixelBits) / 8);
    else if (start + Math.ceil(width / 4) * Math.ceil(height / 4) * (block as number) > b.length)
      fail('image file is truncated');
    return { width, height, mode };
  },
};
