/**
 * XPM (X11 pixmap) with one character a pixel, as XpmImagePlugin reads it. Its row reader pads
 * missing rows, so once the header and colours parse, Pillow always has an image.
 */
import { type FormatReader, fail } from './readers.ts';

export const xpm: FormatReader = {
  format: 'xpm',
  mediaType: 'image/x-xpixmap',
  accepts: (b) => Buffer.from(b.subarray(0, 9)).toString('latin1') === '/* XPM */',
  read: (b, checkPixels) => {
    const text = Buffer.from(b.subarray(9)).toString('latin1');
    const lines = text.split(/(?<=\n)/);
    let i = 0;
    let m: RegExpExecArray | null = null;
    for (; i < lines.length && !m; i++)
      m = /^"([0-9]*) ([0-9]*) ([0-9]*) ([0-9]*)/.exec(lines[i] as string);
    if (!m) return fail('broken XPM file');
    const [width, height, colours, cpp] = m
      .slice(1)
      .map((v) => (v === '' ? fail('invalid literal for int()') : Number(v))) as number[];
    if ((colours as number) > 256 || cpp !== 1) fail('cannot read this XPM file');
    for (let c = 0; c < (colours as number); c++) {
      let s = lines[i++] ?? '';
      s = s.endsWith('\r\n') ? s.slice(0, -2) : /[\r\n]$/.test(s) || s === '' ? s.slice(0, -1) : s;
      if (s.length < 2) fail('IndexError');
      const words = s
        .slice(2, -2)
        .split(/[ \t\n\r\f\v]+/)
        .filter(Boolean);
      let keyed = false;
      for (let k = 0; k < words.length; k += 2) {
        if (words[k] !== 'c') continue;
        const rgb = words[k + 1] ?? fail('IndexError');
        if (rgb.startsWith('#')) {
          if (!/^[+-]?[0-9a-fA-F]+(_[0-9a-fA-F]+)*$/.test(rgb.slice(1)))
            fail('invalid literal for int()');
        } else if (rgb !== 'None') fail('cannot read this XPM file');
        keyed = true;
        break;
      }
      if (!keyed) fail('cannot read this XPM file');
    }
    if (!width || !height) fail('not identified by this driver');
    checkPixels((width as number) * (height as number));
    return { width: width as number, height: height as number, mode: 'P' };
  },
};
