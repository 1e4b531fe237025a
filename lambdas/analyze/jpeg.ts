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

/** What sharp's metadata() reports for a plain JPEG, read from the markers instead. */
export interface JpegHeader {
  width: number;
  height: number;
  components: 1 | 3 | 4;
  isProgressive: boolean;
  /** EXIF orientation, when the file has EXIF. */
  orientation: number | undefined;
}

const u16 = (b: Uint8Array, at: number) => ((b[at] as number) << 8) | (b[at + 1] as number);

/**
 * The header facts of a JPEG whose markers are plain, so that libvips is asked once (to
 * validate) rather than twice. Undefined for anything unusual — a frame type other than
 * baseline, extended or progressive Huffman, no scan header in the file, two EXIF blocks, EXIF
 * that is not a clean orientation — which then goes through sharp's metadata() as before.
 */
export const readJpegHeader = (b: Uint8Array): JpegHeader | undefined => {
  if (b[0] !== 0xff || b[1] !== 0xd8) return undefined;
  let frame: Omit<JpegHeader, 'orientation'> | undefined;
  let orientation: number | undefined;
  let exif = false;
  let at = 2;
  while (at + 4 <= b.length) {
    if (b[at] !== 0xff) return undefined;
    const marker = b[at + 1] as number;
    const length = u16(b, at + 2);
    if (length < 2 || at + 2 + length > b.length) return undefined;
    const data = b.subarray(at + 4, at + 2 + length);
    if (marker === 0xda) return frame && { ...frame, orientation };
    if (FRAMES.has(marker)) {
      if (frame || ![0xc0, 0xc1, 0xc2].includes(marker) || data.length < 6) return undefined;
      const components = data[5] as number;
      const [height, width] = [u16(data, 1), u16(data, 3)];
      if (data[0] !== 8 || width === 0 || height === 0) return undefined;
      if (components !== 1 && components !== 3 && components !== 4) return undefined;
      if (data.length < 6 + 3 * components) return undefined;
      frame = { width, height, components, isProgressive: marker === 0xc2 };
    } else if (marker === 0xe1 && isExif(data)) {
      if (exif) return undefined;
      exif = true;
      orientation = exifOrientation(data.subarray(6));
      if (orientation === undefined) return undefined;
    } else if ((marker >= 0xd0 && marker <= 0xd9) || marker === 0x01 || marker === 0xff) {
      return undefined; // markers without a length, where a header has none
    }
    at += 2 + length;
  }
  return undefined;
};

const isExif = (d: Uint8Array) =>
  d.length >= 6 && String.fromCharCode(...d.subarray(0, 6)) === 'Exif\0\0';

/** IFD0's Orientation: a SHORT from 1 to 8, or undefined when the EXIF is anything else. */
const exifOrientation = (tiff: Uint8Array): number | undefined => {
  if (tiff.length < 8) return undefined;
  const le = tiff[0] === 0x49 && tiff[1] === 0x49;
  if (!le && !(tiff[0] === 0x4d && tiff[1] === 0x4d)) return undefined;
  const view = new DataView(tiff.buffer, tiff.byteOffset, tiff.byteLength);
  if (view.getUint16(2, le) !== 42) return undefined;
  const ifd = view.getUint32(4, le);
  if (ifd < 8 || ifd + 2 > tiff.length) return undefined;
  const count = view.getUint16(ifd, le);
  if (ifd + 2 + count * 12 + 4 > tiff.length) return undefined;
  let orientation: number | undefined;
  for (let i = 0; i < count; i++) {
    const entry = ifd + 2 + i * 12;
    if (view.getUint16(entry, le) !== 0x0112) continue;
    if (orientation !== undefined) return undefined;
    if (view.getUint16(entry + 2, le) !== 3 || view.getUint32(entry + 4, le) !== 1)
      return undefined;
    orientation = view.getUint16(entry + 8, le);
  }
  return orientation !== undefined && orientation >= 1 && orientation <= 8
    ? orientation
    : undefined;
};
