/**
 * The memory a JPEG needs before libjpeg decodes a single row. A progressive JPEG keeps every
 * DCT coefficient of the image until its last scan (2 bytes a sample, whatever the scale it is
 * decoded at): an 18 KB file can declare 13,000 × 13,000 pixels and cost a gigabyte. Read from
 * the frame header, so the bound is checked before libvips is called.
 */

const PROGRESSIVE = new Set([0xc2, 0xc6, 0xca, 0xce]);
const FRAMES = new Set([
  0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf,
]);

/** Bytes of coefficient buffer for a progressive JPEG, 0 for a sequential one. */
export const progressiveJpegMemory = (b: Uint8Array): number => {
  let at = 2;
  while (at + 4 <= b.length) {
    if (b[at] !== 0xff) return 0;
    const marker = b[at + 1] as number;
    if (marker === 0xff) {
      at++;
      continue;
    }
    const length = ((b[at + 2] as number) << 8) | (b[at + 3] as number);
    if (FRAMES.has(marker)) {
      if (!PROGRESSIVE.has(marker)) return 0;
      const f = at + 4;
      if (f + 6 > b.length) return 0;
      const height = ((b[f + 1] as number) << 8) | (b[f + 2] as number);
      const width = ((b[f + 3] as number) << 8) | (b[f + 4] as number);
      const components = b[f + 5] as number;
      const sampling: [number, number][] = [];
      for (let i = 0; i < components && f + 6 + 3 * i + 2 <= b.length; i++) {
        const s = b[f + 6 + 3 * i + 1] as number;
        sampling.push([s >> 4 || 1, s & 15 || 1]);
      }
      const hMax = Math.max(1, ...sampling.map(([h]) => h));
      const vMax = Math.max(1, ...sampling.map(([, v]) => v));
      // Blocks are allocated by whole MCUs: round each plane up to its MCU grid.
      const mcuX = Math.ceil(width / (8 * hMax));
      const mcuY = Math.ceil(height / (8 * vMax));
      return sampling.reduce((sum, [h, v]) => sum + mcuX * h * mcuY * v * 64 * 2, 0);
    }
    at += 2 + length;
  }
  return 0;
};
