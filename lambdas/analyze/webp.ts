/**
 * The header facts of a still WebP, read from its first chunk so that libvips is asked once (to
 * validate) rather than twice. Only what libwebp's WebPGetFeatures derives from that chunk:
 * animations and EXIF (the orientation) are left to sharp's metadata().
 */

export interface WebpHeader {
  width: number;
  height: number;
  hasAlpha: boolean;
}

const fourcc = (b: Uint8Array, at: number) => String.fromCharCode(...b.subarray(at, at + 4));
const u16le = (b: Uint8Array, at: number) => (b[at] as number) | ((b[at + 1] as number) << 8);
const u24le = (b: Uint8Array, at: number) => u16le(b, at) | ((b[at + 2] as number) << 16);

/** Undefined for anything but a plain VP8, VP8L or VP8X (no animation, no EXIF) header. */
export const readWebpHeader = (b: Uint8Array): WebpHeader | undefined => {
  if (b.length < 30 || fourcc(b, 0) !== 'RIFF' || fourcc(b, 8) !== 'WEBP') return undefined;
  const d = 20;
  switch (fourcc(b, 12)) {
    case 'VP8 ': {
      // A key frame's tag, then the start code, then 14-bit dimensions (2 bits of scale above).
      if ((b[d] as number) & 1 || b[d + 3] !== 0x9d || b[d + 4] !== 0x01 || b[d + 5] !== 0x2a)
        return undefined;
      return plain(u16le(b, d + 6) & 0x3fff, u16le(b, d + 8) & 0x3fff, false);
    }
    case 'VP8L': {
      if (b[d] !== 0x2f) return undefined;
      const bits = (b[d + 1] as number) | ((b[d + 2] as number) << 8) | (u16le(b, d + 3) << 16);
      if (bits >>> 29 !== 0) return undefined; // version
      return plain((bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1, ((bits >>> 28) & 1) === 1);
    }
    case 'VP8X': {
      const flags = b[d] as number;
      if (flags & (0x02 | 0x08)) return undefined; // animation, EXIF
      return plain(u24le(b, d + 4) + 1, u24le(b, d + 7) + 1, (flags & 0x10) !== 0);
    }
    default:
      return undefined;
  }
};

const plain = (width: number, height: number, hasAlpha: boolean) =>
  width > 0 && height > 0 ? { width, height, hasAlpha } : undefined;
