/** XBM (X11 bitmap), as XbmImagePlugin + XbmDecode.c read it: #defines, then 0x.. values. */
import { type FormatReader, fail } from './readers.ts';

// Python's bytes regex: "." is anything but \n and \s the six ASCII spaces.
const HEAD =
  /^[ \t\n\r\f\v]*#define[ \t]+[^\n]*_width[ \t]+([0-9]+)[\r\n]+#define[ \t]+[^\n]*_height[ \t]+([0-9]+)[\r\n]+(?:#define[ \t]+[^_]*_x_hot[ \t]+[0-9]+[\r\n]+#define[ \t]+[^_]*_y_hot[ \t]+[0-9]+[\r\n]+)?[\s\S]*_bits\[\]/;

export const xbm: FormatReader = {
  format: 'xbm',
  mediaType: 'image/x-xbitmap',
  accepts: (b) =>
    Buffer.from(b.subarray(0, 512))
      .toString('latin1')
      .replace(/^[ \t\n\r\f\v]+/, '')
      .startsWith('#define'),
  read: (b, checkPixels) => {
    const m = HEAD.exec(Buffer.from(b.subarray(0, 512)).toString('latin1'));
    if (!m) return fail('not a XBM file');
    const [width, height] = [Number(m[1]), Number(m[2])];
    if (width <= 0 || height <= 0) fail('not identified by this driver');
    checkPixels(width * height);
    // Each value is an "x" and the two characters after it.
    const needed = Math.ceil(width / 8) * height;
    let [at, count] = [m[0].length, 0];
    while (count < needed) {
      const x = b.indexOf(0x78, at);
      if (x < 0 || x + 3 > b.length) fail('image file is truncated');
      [at, count] = [x + 3, count + 1];
    }
    return { width, height, mode: '1', bitDepth: 1 };
  },
};
