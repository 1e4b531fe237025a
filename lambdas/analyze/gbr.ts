/** GIMP brush, as GbrImagePlugin reads it: a header, a comment, then raw L or RGBA pixels. */
import { type FormatReader, fail, ints } from './readers.ts';

export const gbr: FormatReader = {
  format: 'gbr',
  mediaType: 'image/x-gimp-gbr',
  accepts: (b) => {
    if (b.length < 8) return false;
    const { u32be } = ints(b);
    return u32be(0) >= 20 && [1, 2].includes(u32be(4));
  },
  read: (b, checkPixels) => {
    const { u32be } = ints(b);
    const [headerSize, version, width, height, depth] = [0, 4, 8, 12, 16].map(u32be) as number[];
    if (!width || !height || (width as number) >= 2 ** 31 || (height as number) >= 2 ** 31)
      fail('not a GIMP brush');
    if (depth !== 1 && depth !== 4) fail('Unsupported GIMP brush color depth');
    if (version === 2 && Buffer.from(b.subarray(20, 24)).toString('latin1') !== 'GIMP')
      fail('bad magic number');
    if (version === 2) u32be(24);
    checkPixels((width as number) * (height as number));
    const start = Math.min(b.length, Math.max(headerSize as number, version === 2 ? 28 : 20));
    if (start + (width as number) * (height as number) * (depth as number) > b.length)
      fail('not enough image data');
    return { width: width as number, height: height as number, mode: depth === 1 ? 'L' : 'RGBA' };
  },
};
