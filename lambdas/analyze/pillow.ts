/**
 * The original service answered with `numpy.array(PIL.Image.open(f))`: its shape and its
 * nbytes depend on the Pillow *mode* the file decodes to, not on what libvips would decode.
 * Pillow 9.4 (the oracle's version) is the reference for every rule here.
 */

export type PillowMode =
  | '1'
  | 'L'
  | 'P'
  | 'I'
  | 'I;16'
  | 'I;16B'
  | 'I;16L'
  | 'F'
  | 'LA'
  | 'PA'
  | 'RGB'
  | 'RGBA'
  | 'RGBX'
  | 'CMYK'
  | 'LAB'
  | 'YCbCr';

/** [bands, bytes per sample] of the NumPy array for each mode. */
const LAYOUT: Record<PillowMode, readonly [number, number]> = {
  '1': [1, 1], // bool
  L: [1, 1],
  P: [1, 1],
  I: [1, 4], // int32
  'I;16': [1, 2], // uint16
  'I;16B': [1, 2], // big-endian uint16
  'I;16L': [1, 2],
  F: [1, 4], // float32
  LA: [2, 1],
  PA: [2, 1],
  RGB: [3, 1],
  RGBA: [4, 1],
  RGBX: [4, 1],
  CMYK: [4, 1],
  LAB: [3, 1],
  YCbCr: [3, 1],
};

export interface ArrayLayout {
  shape: number[];
  channels: number;
  nbytes: number;
}

export const arrayLayout = (mode: PillowMode, width: number, height: number): ArrayLayout => {
  const [bands, bytesPerSample] = LAYOUT[mode];
  return {
    shape: bands === 1 ? [height, width] : [height, width, bands],
    channels: bands,
    // Integer byte count divided once, so 19200 / 1000 prints as 19.2 exactly as Python did.
    nbytes: (height * width * bands * bytesPerSample) / 1000,
  };
};

export const jpegMode = (channels: number): PillowMode =>
  channels === 1 ? 'L' : channels === 4 ? 'CMYK' : 'RGB';

/** TIFF, WebP and HEIF/AVIF: derived from what libvips reports about the stored samples. */
export const genericMode = (facts: {
  channels: number;
  depth: string;
  bitsPerSample: number;
  isPalette: boolean;
  colourSpace: string;
  hasAlpha: boolean;
}): PillowMode => {
  if (facts.isPalette) return 'P';
  if (facts.colourSpace === 'cmyk') return 'CMYK';
  switch (facts.channels) {
    case 1:
      if (facts.bitsPerSample === 1) return '1';
      if (facts.depth === 'ushort') return 'I;16';
      if (facts.depth === 'float' || facts.depth === 'double') return 'F';
      if (facts.depth === 'uint' || facts.depth === 'int') return 'I';
      return 'L';
    case 2:
      return 'LA';
    case 3:
      return 'RGB';
    default:
      return facts.hasAlpha ? 'RGBA' : 'RGB';
  }
};
