/** MSP (Windows Paint), as MspImagePlugin reads it: version 1 raw bits, version 2 run-length rows. */
import { type FormatReader, fail, ints, needRaw } from './readers.ts';

export const msp: FormatReader = {
  format: 'msp',
  mediaType: 'image/x-msp',
  accepts: (b) => ['DanM', 'LinS'].includes(Buffer.from(b.subarray(0, 4)).toString('latin1')),
  read: (b, checkPixels) => {
    if (b.length < 32) fail('struct.error');
    const { u16le } = ints(b);
    let checksum = 0;
    for (let i = 0; i < 32; i += 2) checksum ^= u16le(i);
    if (checksum !== 0) fail('bad MSP checksum');
    const [width, height] = [u16le(4), u16le(6)];
    if (!width || !height) fail('not identified by this driver');
    checkPixels(width * height);
    if (b[0] === 0x44) needRaw(b, 32, height, Math.ceil(width / 8));
    else {
      // The row map, then each row as long as the map says.
      if (32 + 2 * height > b.length) fail('Truncated MSP file in row map');
      let at = 32 + 2 * height;
      for (let y = 0; y < height; y++) at += u16le(32 + 2 * y);
      if (at > b.length) fail('Truncated MSP file');
    }
    return { width, height, mode: '1', bitDepth: 1 };
  },
};
