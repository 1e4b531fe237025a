/**
 * BLP (Blizzard mipmaps), as BlpImagePlugin reads the first mipmap: palette indices (BLP1 and
 * BLP2) or DXT blocks (BLP2). JPEG-compressed BLP1 is refused here (see the exceptions file).
 */
import { type FormatReader, fail, ints } from './readers.ts';

export const blp: FormatReader = {
  format: 'blp',
  mediaType: 'image/x-blp',
  accepts: (b) => ['BLP1', 'BLP2'].includes(Buffer.from(b.subarray(0, 4)).toString('latin1')),
  read: (b, checkPixels) => {
    const { u32le, i32le } = ints(b);
    const v1 = b[3] === 0x31;
    if (b.length < 20) fail('struct.error');
    const alpha = b[9] !== 0;
    const [width, height] = [u32le(12), u32le(16)];
    if (!width || !height) fail('not identified by this driver');
    checkPixels(width * height);
    const compression = i32le(4);
    const encoding = v1 ? i32le(20) : (b[8] as number);
    const tables = v1 ? 28 : 20;
    if (tables + 128 > b.length) fail('Truncated File Read');
    const [offset, length] = [u32le(tables), u32le(tables + 64)];
    if (compression !== 1) fail('Unsupported BLP compression');
    if ((v1 && (encoding === 4 || encoding === 5)) || (!v1 && encoding === 1)) {
      // 256 BGRA palette entries, then one index a pixel; an index past the palette fails.
      const palette = tables + 128;
      if (palette + 1024 > b.length) fail('Truncated File Read');
      const start = v1 ? palette + 1024 : offset;
      if (start + length > b.length) fail('Truncated File Read');
      if (length < width * height) fail('not enough image data');
    } else if (!v1 && encoding === 2) {
      const block = { 0: 8, 1: 16, 7: 16 }[b[10] as number];
      if (!block) fail('Unsupported alpha encoding');
      const lines = Math.ceil(height / 4) * Math.ceil(width / 4) * (block as number);
      if (offset + lines > b.length) fail('Truncated File Read');
    } else fail('Unknown BLP encoding');
    return { width, height, mode: alpha ? 'RGBA' : 'RGB' };
  },
};
