/** PCX (Paintbrush), as PcxImagePlugin + PcxDecode.c read it: every row run-length decoded. */
import type { PillowMode } from './pillow.ts';
import { type FormatReader, fail, ints } from './readers.ts';

export const pcx: FormatReader = {
  format: 'pcx',
  mediaType: 'image/vnd.zbrush.pcx',
  accepts: (b) => b[0] === 10 && [0, 2, 3, 5].includes(b[1] ?? -1),
  read: (b, checkPixels) => {
    if (b.length < 128) fail('IndexError');
    const { u16le } = ints(b);
    const [x0, y0, x1, y1] = [u16le(4), u16le(6), u16le(8) + 1, u16le(10) + 1];
    if (x1 <= x0 || y1 <= y0) fail('bad PCX image size');
    const [version, bits, planes] = [b[1], b[3], b[65]];
    let mode: PillowMode;
    if (bits === 1 && planes === 1) mode = '1';
    else if (bits === 1 && (planes === 2 || planes === 4)) mode = 'P';
    else if (version === 5 && bits === 8 && planes === 1) {
      // Grey unless a 256-colour palette (marker 12) at the end says otherwise.
      const tail = b.length >= 769 ? b.subarray(b.length - 769) : undefined;
      mode = 'L';
      if (tail?.[0] === 12)
        for (let i = 0; i < 256; i++)
          if (tail[i * 3 + 1] !== i || tail[i * 3 + 2] !== i || tail[i * 3 + 3] !== i) mode = 'P';
    } else if (version === 5 && bits === 8 && planes === 3) mode = 'RGB';
    else return fail('unknown PCX mode');
    const [width, height] = [x1 - x0, y1 - y0];
    checkPixels(width * height);
    let stride = Math.floor((width * (bits as number) + 7) / 8);
    if (u16le(66) !== stride) stride += stride % 2;
    const rowBytes = (planes as number) * stride;
    if ((mode === '1' && width > rowBytes * 8) || (mode === 'P' && width > rowBytes))
      fail('buffer overrun');
    decodesToTheEnd(b, 128, rowBytes, height);
    return { width, height, mode, bitDepth: bits as number };
  },
};

/** PcxDecode.c, counting: a run longer than the row is an overrun; the file must hold every row. */
const decodesToTheEnd = (b: Uint8Array, from: number, rowBytes: number, rows: number) => {
  let [at, x, y, overrun] = [from, 0, 0, false];
  while (at < b.length) {
    const byte = b[at] as number;
    if ((byte & 0xc0) === 0xc0) {
      if (at + 2 > b.length) break;
      const n = byte & 0x3f;
      if (x + n > rowBytes) overrun = true;
      x = Math.min(rowBytes, x + n);
      at += 2;
    } else {
      x++;
      at++;
    }
    if (x >= rowBytes) {
      x = 0;
      if (++y >= rows) {
        if (overrun) fail('buffer overrun');
        return;
      }
    }
  }
  fail('image file is truncated');
};
