/**
 * BMP: the original read it through Pillow, but sharp's prebuilt libvips has no BMP loader.
 * bmp-ts (kept by the Jimp maintainers) decodes it, which proves the pixel data is all there
 * (RLE included); the Pillow mode comes from the header the way BmpImagePlugin derives it.
 */
import { decode } from 'bmp-ts';
import type { PillowMode } from './pillow.ts';

export const isBmp = (bytes: Uint8Array): boolean =>
  bytes.length >= 26 && bytes[0] === 0x42 && bytes[1] === 0x4d; // "BM"

export interface BmpHeader {
  width: number;
  height: number;
  bitDepth: number;
  /** Non-zero when a BI_BITFIELDS image declares an alpha channel (Pillow then says RGBA). */
  alphaMask: number;
}

const BI_BITFIELDS = 3;

/** Reads only the dimensions, so the pixel limit can be checked before anything is decoded. */
export const readBmpHeader = (bytes: Uint8Array): BmpHeader => {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerSize = view.getUint32(14, true);
  if (headerSize === 12) {
    // OS/2 BITMAPCOREHEADER: 16-bit dimensions.
    return {
      width: view.getUint16(18, true),
      height: view.getUint16(20, true),
      bitDepth: view.getUint16(24, true),
      alphaMask: 0,
    };
  }
  const bitfields = view.getUint32(30, true) === BI_BITFIELDS;
  return {
    width: Math.abs(view.getInt32(18, true)),
    height: Math.abs(view.getInt32(22, true)), // negative means top-down rows
    bitDepth: view.getUint16(28, true),
    // Like Pillow, only headers of 56 bytes and more carry an alpha mask (at file offset 66).
    alphaMask: bitfields && headerSize >= 56 ? view.getUint32(66, true) : 0,
  };
};

/** Decodes the whole file (throws on truncated or malformed data) and returns Pillow's mode. */
export const decodeBmpMode = (bytes: Uint8Array, header: BmpHeader): PillowMode => {
  const image = decode(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  if (image.bitPP <= 8) {
    // Pillow calls a palette that is the identity grey ramp "1" (2 colours) or "L".
    const colours = image.palette?.length ?? 0;
    const grey =
      colours > 0 &&
      image.palette.every((c, i) => {
        const level = colours === 2 ? i * 255 : i;
        return c.red === level && c.green === level && c.blue === level;
      });
    if (!grey) return 'P';
    return colours === 2 ? '1' : 'L';
  }
  return image.bitPP === 32 && header.alphaMask !== 0 ? 'RGBA' : 'RGB';
};
