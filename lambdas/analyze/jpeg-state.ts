/**
 * What the JPEG walk (jpeg-walk.ts) knows of the file so far, and how it stops: "unknown"
 * (Unclear) or "fails" (Fails), the latter only for an error libjpeg certainly reaches under
 * Pillow (see `reached`, and jpeg-walk.ts for why).
 */

/** Why the walk stops short of "succeeds": the reason is for tests and logs. */
export class Unclear extends Error {}
export const unclear = (reason: string): never => {
  throw new Unclear(reason);
};
/** An error libjpeg certainly raises, reached by Pillow's decoder. */
export class Fails extends Error {}

export interface Component {
  id: number;
  h: number;
  v: number;
  quantTable: number;
  /** libjpeg copies a component's quantization table at its first scan (latch_quant_tables). */
  latched: boolean;
  widthInBlocks: number;
  heightInBlocks: number;
}

export interface Frame {
  progressive: boolean;
  /** Arithmetic coding (SOF9, SOF10): walked for "fails" only, see readScan. */
  arithmetic: boolean;
  width: number;
  height: number;
  hMax: number;
  vMax: number;
  components: Component[];
}

export interface HuffmanTable {
  /** The largest symbol (a DC symbol is a difference's bit count). */
  maxSymbol: number;
  /** Why jdhuff.c jpeg_make_d_derived_tbl refuses the table when a scan first uses it. */
  bad: string | undefined;
}

export interface State {
  frame: Frame | undefined;
  quant: boolean[];
  dc: (HuffmanTable | undefined)[];
  ac: (HuffmanTable | undefined)[];
  restartInterval: number;
  scans: number;
  multiScan: boolean;
  /** Pillow's _open has read the first SOS segment: it reads nothing after it. */
  opened: boolean;
  /** Why Pillow's _open might raise where libjpeg goes on: the walk can only say "fails". */
  unproven: string | undefined;
  /** How far into the file libjpeg is sure to read before it stops (see the header). */
  reached: number;
}

export const u16 = (b: Uint8Array, at: number) => ((b[at] as number) << 8) | (b[at + 1] as number);

/**
 * An ERREXIT of libjpeg, met where the walk stands: "fails" when libjpeg certainly reads up to
 * `end` (the last byte it needs to raise); else "unknown".
 */
export const raises = (state: State, reason: string, end: number): never => {
  if (end <= state.reached) throw new Fails(reason);
  return unclear(reason);
};

/**
 * The file ends before libjpeg met its EOI. Before the first scan's data (jpeg_read_header),
 * and anywhere in a multi-scan file (consumed to EOI inside jpeg_start_decompress), Pillow
 * raises "image file is truncated". A single-scan file's decoder may have all its rows by
 * then, and jpeg_finish_decompress' suspension is ignored.
 */
export const truncated = (state: State, reason: string): never => {
  if (state.scans === 0 || state.multiScan) throw new Fails(reason);
  return unclear(reason);
};
