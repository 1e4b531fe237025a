/**
 * Whether the original service decoded a JPEG without raising, decided from the file's marker
 * structure alone, without decoding it. The answer is "succeeds" only where the structure
 * leaves Pillow 9.4 over Debian 12's libjpeg-turbo 2.1.5 no way to raise, "fails" only where it
 * proves libjpeg raises (an ERREXIT that Pillow's decoder reaches, see below); anything else is
 * "unknown" and goes to libvips as before. Every rule cites the code it mirrors (Pillow 9.4.0,
 * libjpeg-turbo 2.1.5).
 *
 * Why that is possible:
 * - Pillow (ImageFile.load) feeds libjpeg through a suspending source (JpegDecode.c,
 *   fill_input_buffer returns FALSE) and raises "image file is truncated" only when the decoder
 *   asks for more bytes at the end of the file, or the error it met when libjpeg called
 *   error_exit. After the last scanline JpegDecode.c does call jpeg_finish_decompress, but
 *   ignores its suspension (`if (state->y < state->ysize) break;`): markers up to EOI are still
 *   parsed there (their errors count), and a file that ends before its EOI still succeeds.
 * - The Huffman decoders never raise on damaged entropy-coded data: at a marker they stop and
 *   pad with zeros (jdhuff.c jpeg_fill_bit_buffer, a warning only); a bad code is a warning
 *   (jpeg_huff_decode). Their errors are the tables (jpeg_make_d_derived_tbl), the scan
 *   parameters (jdphuff.c start_pass_phuff_decoder) and, in a progressive DC scan only, the
 *   DC-predictor overflow check (decode_mcu_DC_first, JERR_BAD_DCT_COEF); the sequential
 *   decoder has none in 2.1.5 (decode_mcu_slow / decode_mcu_fast let it wrap).
 * - What reads beyond a scan's data: restart processing (read_restart_marker, and
 *   jpeg_resync_to_restart when the marker is not the one expected), the greedy bit-buffer
 *   refill when the data ends without a marker (jpeg_fill_bit_buffer suspends even when it has
 *   the bits it needs), and the markers between scans and up to EOI (jdmarker.c read_markers),
 *   which a multi-scan file has consumed by jpeg_start_decompress (jdapistd.c), and a
 *   single-scan file by jpeg_finish_decompress. So restart markers must come in sequence, every
 *   scan's data must end at a marker, and every marker after it must parse.
 *
 * When "fails" is certain: Pillow's _open either raises (then Image.open tries the plugins
 * without a signature, IM, IMT, IPTC, MPEG, PCD, SPIDER and TGA, each of which refuses a file
 * that starts FF D8 FF, and raises UnidentifiedImageError) or returns, and load() hands the
 * file from its first byte to libjpeg. So an ERREXIT that libjpeg reaches is a failure
 * (JpegDecode.c's error_exit longjmps: "broken data stream"), whatever Pillow's _open made of
 * the file, and so is running out of bytes before the rows are done ("image file is
 * truncated"). Reached means: anywhere up to and in the first scan's header (jpeg_read_header)
 * and at the start of a scan (jdinput.c start_input_pass runs for the first scan inside
 * jpeg_start_decompress, for the others as the markers are read); anywhere before EOI in a
 * multi-scan file, which jpeg_start_decompress consumes whole; in a single-scan file's tail,
 * only within the bytes Pillow had handed over when the last row was decoded: ImageFile.load
 * feeds the decoder MAXBLOCK (65,536-byte) reads from the start of the file, and the call that
 * decodes the last row has read past the first byte of the scan's data, so it has every byte up
 * to the next multiple of 65,536 (or the end of the file); jpeg_finish_decompress's suspension
 * beyond that is ignored. "succeeds" needs Pillow's _open to return as well: before the first
 * scan, what its own parser might refuse leaves the walk going for "fails" only.
 */

export type JpegVerdict =
  | { verdict: 'succeeds' }
  | { verdict: 'fails' | 'unknown'; reason: string };

/** Why the walk stops short of "succeeds": the reason is for tests and logs. */
class Unclear extends Error {}
const unclear = (reason: string): never => {
  throw new Unclear(reason);
};
/** An error libjpeg certainly raises, reached by Pillow's decoder. */
class Fails extends Error {}

export const walkJpeg = (bytes: Uint8Array): JpegVerdict => {
  try {
    walk(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    return { verdict: 'succeeds' };
  } catch (error) {
    if (error instanceof Unclear) return { verdict: 'unknown', reason: error.message };
    if (error instanceof Fails) return { verdict: 'fails', reason: error.message };
    throw error;
  }
};

interface Component {
  id: number;
  h: number;
  v: number;
  quantTable: number;
  /** libjpeg copies a component's quantization table at its first scan (latch_quant_tables). */
  latched: boolean;
  widthInBlocks: number;
  heightInBlocks: number;
}

interface Frame {
  progressive: boolean;
  /** Arithmetic coding (SOF9, SOF10): walked for "fails" only, see readScan. */
  arithmetic: boolean;
  width: number;
  height: number;
  hMax: number;
  vMax: number;
  components: Component[];
}

interface HuffmanTable {
  /** The largest symbol (a DC symbol is a difference's bit count). */
  maxSymbol: number;
  /** Why jdhuff.c jpeg_make_d_derived_tbl refuses the table when a scan first uses it. */
  bad: string | undefined;
}

interface State {
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

const u16 = (b: Uint8Array, at: number) => ((b[at] as number) << 8) | (b[at + 1] as number);
const JPEG_MAX_DIMENSION = 65500; // jmorecfg.h, checked by jdinput.c initial_setup
const D_MAX_BLOCKS_IN_MCU = 10; // jpeglib.h, checked by jdinput.c per_scan_setup
const INT_MAX = 2 ** 31 - 1;
const MAXBLOCK = 65_536; // Pillow's ImageFile.MAXBLOCK, the size of each read load() feeds
/**
 * Markers read_markers (jdmarker.c) refuses on their code alone, before any length: SOF types
 * it does not decode (JERR_SOF_UNSUPPORTED), a second SOI (get_soi, JERR_SOI_DUPLICATE), and
 * its default case (JERR_UNKNOWN_MARKER: reserved codes, DHP, EXP, JPGn). 0x01 is TEM and
 * parameterless; 0x00 and 0xFF never reach it (next_marker skips them).
 */
const refused = (marker: number) =>
  (marker >= 0x02 && marker <= 0xbf) ||
  [0xc3, 0xc5, 0xc6, 0xc7, 0xc8, 0xcb, 0xcd, 0xce, 0xcf, 0xd8, 0xde, 0xdf].includes(marker) ||
  (marker >= 0xf0 && marker <= 0xfd);

/**
 * An ERREXIT of libjpeg, met where the walk stands: "fails" when libjpeg certainly reads up to
 * `end` (the last byte it needs to raise); else "unknown".
 */
const raises = (state: State, reason: string, end: number): never => {
  if (end <= state.reached) throw new Fails(reason);
  return unclear(reason);
};

/**
 * The file ends before libjpeg met its EOI. Before the first scan's data (jpeg_read_header),
 * and anywhere in a multi-scan file (consumed to EOI inside jpeg_start_decompress), Pillow
 * raises "image file is truncated". A single-scan file's decoder may have all its rows by
 * then, and jpeg_finish_decompress' suspension is ignored.
 */
const truncated = (state: State, reason: string): never => {
  if (state.scans === 0 || state.multiScan) throw new Fails(reason);
  return unclear(reason);
};

const walk = (b: Buffer) => {
  // libjpeg's first_marker wants SOI first, no fill. Pillow's _accept wants FF D8 FF: without
  // it, no plugin takes the file (UnidentifiedImageError).
  if (b[0] !== 0xff || b[1] !== 0xd8) unclear('no SOI at the start');
  if (b[2] !== 0xff) throw new Fails('no marker after SOI');
  const state: State = {
    frame: undefined,
    quant: [false, false, false, false],
    dc: [undefined, undefined, undefined, undefined],
    ac: [undefined, undefined, undefined, undefined],
    restartInterval: 0,
    scans: 0,
    multiScan: false,
    opened: false,
    unproven: undefined,
    reached: b.length,
  };
  let at = 2;
  for (;;) {
    if (at + 2 > b.length) truncated(state, 'the file ends before EOI');
    if (b[at] !== 0xff || b[at + 1] === 0x00 || b[at + 1] === 0xff) {
      // libjpeg's next_marker skips it all with a warning. Before the first scan, Pillow's _open
      // has rules of its own for it.
      if (!state.opened) state.unproven ??= 'bytes between marker segments';
      at = nextMarker(b, at, state);
    }
    const marker = b[at + 1] as number;
    if (marker === 0xd9) {
      if (state.scans === 0) unclear('EOI before any scan');
      // jdarith.c has no suspension (get_byte raises JERR_CANT_SUSPEND when Pillow's buffer runs
      // dry), so a decode that ends well depends on where the reads fall: not worth following.
      if (state.frame?.arithmetic) unclear('arithmetic coding');
      if (state.unproven) unclear(state.unproven);
      return; // EOI: libjpeg reads no further, and neither does Pillow's decoder.
    }
    if (refused(marker)) raises(state, `marker 0x${marker.toString(16)}`, at + 2);
    // No length follows RSTn or TEM: read_markers takes them as parameterless (a trace message).
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      // Pillow's _open reads RSTn as libjpeg does, but has no TEM in its MARKER table: "no
      // marker found" (SyntaxError), and no other plugin takes the file.
      if (!state.opened && marker === 0x01) throw new Fails('TEM before the first scan');
      if (!state.opened) state.unproven ??= `marker 0x${marker.toString(16)} between segments`;
      at += 2;
      continue;
    }
    // get_sof raises JERR_SOF_DUPLICATE once it has read 8 bytes of the segment.
    const isFrame = [0xc0, 0xc1, 0xc2, 0xc9, 0xca].includes(marker);
    if (isFrame && state.frame) raises(state, 'a second frame header', at + 10);
    if (at + 4 > b.length) truncated(state, 'the file ends inside a marker');
    const length = u16(b, at + 2);
    if (length < 2) unclear('a marker segment shorter than its length field');
    const end = at + 2 + length;
    // Tables are read as libjpeg reads them, byte by byte: an error may come before the end of
    // a segment that runs past the end of the file.
    const tables = TABLES[marker];
    if (tables) {
      tables(new Segment(b, at, state));
      at = end;
      continue;
    }
    if (marker === 0xda && state.scans > 0 && !state.multiScan) {
      // get_sos checks its length against its first 3 bytes (JERR_BAD_LENGTH); whole, it is
      // JERR_EOI_EXPECTED (readScan).
      const n = new Segment(b, at, state).byte();
      if (length !== 6 + 2 * n || n < 1 || n > 4) raises(state, 'SOS of a bad length', at + 5);
    }
    if (end > b.length) truncated(state, 'a marker segment runs past the end');
    const data = b.subarray(at + 4, end);
    if (isFrame) {
      state.frame = readFrame(data, marker === 0xc2 || marker === 0xca, marker >= 0xc9);
    } else if (marker >= 0xe0 && marker <= 0xef) {
      if (!state.opened) state.unproven ??= pillowAppRefusal(marker, data);
    } else if (marker === 0xda) {
      at = readScan(b, end, data, state);
      continue;
    } else if (marker !== 0xfe) {
      // DNL (skipped by libjpeg) and anything else not worth reasoning about here.
      unclear(`marker 0x${marker.toString(16)}`);
    }
    at = end;
  }
};

/** jdmarker.c get_sof, then what jdinput.c initial_setup and jdsample.c jinit_upsampler check. */
const readFrame = (d: Uint8Array, progressive: boolean, arithmetic: boolean): Frame => {
  if (d.length < 6) unclear('a short frame header');
  const [height, width, count] = [u16(d, 1), u16(d, 3), d[5] as number];
  // Pillow's SOF handler raises on other depths and component counts.
  if (d[0] !== 8) unclear('not 8 bits per sample');
  if (count !== 1 && count !== 3 && count !== 4) unclear('not 1, 3 or 4 components');
  if (d.length !== 6 + 3 * count) unclear('a frame header of a bad length');
  if (width === 0 || height === 0) unclear('an empty image');
  if (width > JPEG_MAX_DIMENSION || height > JPEG_MAX_DIMENSION) unclear('an image too big');
  const sampling: [number, number][] = [];
  const ids = new Set<number>();
  for (let i = 0; i < count; i++) {
    const [h, v] = [(d[7 + 3 * i] as number) >> 4, (d[7 + 3 * i] as number) & 15];
    if (h < 1 || h > 4 || v < 1 || v > 4) unclear('bad sampling factors');
    sampling.push([h, v]);
    ids.add(d[6 + 3 * i] as number);
  }
  // Repeated ids are legal for libjpeg, but make get_sos' matching worth no guess.
  if (ids.size !== count) unclear('two components with one id');
  const hMax = Math.max(...sampling.map(([h]) => h));
  const vMax = Math.max(...sampling.map(([, v]) => v));
  const components = sampling.map(([h, v], i): Component => {
    // jinit_upsampler: JERR_FRACT_SAMPLE_NOTIMPL unless each factor divides the largest.
    if (hMax % h !== 0 || vMax % v !== 0) unclear('fractional upsampling');
    return {
      id: d[6 + 3 * i] as number,
      h,
      v,
      quantTable: d[8 + 3 * i] as number,
      latched: false,
      widthInBlocks: Math.ceil((width * h) / (hMax * 8)),
      heightInBlocks: Math.ceil((height * v) / (vMax * 8)),
    };
  });
  return { progressive, arithmetic, width, height, hMax, vMax, components };
};

/**
 * jdmarker.c next_marker: skips bytes up to an FF, swallows fill FFs, discards a stuffed FF 00
 * and looks again. Returns where the FF before the marker code is.
 */
const nextMarker = (b: Buffer, from: number, state: State): number => {
  for (let at = from; ; ) {
    const ff = b.indexOf(0xff, at);
    let code = ff < 0 ? b.length : ff + 1;
    while (b[code] === 0xff) code++;
    if (code >= b.length) truncated(state, 'the file ends before EOI');
    if (b[code] !== 0x00) return code - 1;
    at = code + 1;
  }
};

/**
 * A marker segment read from the stream as jdmarker.c reads it (INPUT_BYTE): bytes past the
 * end of the file suspend libjpeg, and `at` is where it has read to, for `raises`.
 */
class Segment {
  at: number;
  /** What the length field says is left (get_dht and friends count it down). */
  left: number;
  private readonly b: Buffer;
  readonly state: State;
  constructor(b: Buffer, marker: number, state: State) {
    this.b = b;
    this.state = state;
    this.at = marker + 4;
    this.left = u16(b, marker + 2) - 2;
  }
  byte(): number {
    if (this.at >= this.b.length) truncated(this.state, 'a marker segment runs past the end');
    this.left--;
    return this.b[this.at++] as number;
  }
  raises(reason: string): never {
    return raises(this.state, reason, this.at);
  }
}

/**
 * jdmarker.c get_dht, whose errors are immediate; the validation jdhuff.c
 * jpeg_make_d_derived_tbl does when a scan first uses a table is recorded for that moment.
 */
const readHuffmanTables = (s: Segment) => {
  while (s.left > 16) {
    const index = s.byte();
    const bits = Array.from({ length: 16 }, () => s.byte());
    const count = bits.reduce((sum, n) => sum + n, 0);
    if (count > 256 || count > s.left) s.raises('a Huffman table overruns its marker');
    let maxSymbol = 0;
    for (let i = 0; i < count; i++) maxSymbol = Math.max(maxSymbol, s.byte());
    // JERR_DHT_INDEX past table 3; any other class is taken as DC by libjpeg.
    if ((index & 0xf0) > 0x10 || (index & 0x0f) > 3) s.raises('a bad Huffman table index');
    // Figure C.2: a code of each length must fit in that many bits, and not be all ones.
    let bad: string | undefined;
    let code = 0;
    for (let length = 1; length <= 16; length++) {
      code += bits[length - 1] as number;
      if (code >= 2 ** length) bad = 'an impossible Huffman code';
      code *= 2;
    }
    const isAc = (index & 0xf0) === 0x10;
    if (!isAc && maxSymbol > 15) bad ??= 'a DC Huffman symbol over 15';
    (isAc ? s.state.ac : s.state.dc)[index & 0x0f] = { maxSymbol, bad };
  }
  if (s.left !== 0) s.raises('DHT of a bad length'); // JERR_BAD_LENGTH
};

/** jdmarker.c get_dqt; Pillow's DQT handler reads the same layout. */
const readQuantTables = (s: Segment) => {
  while (s.left > 0) {
    const n = s.byte();
    const [precision, slot] = [n >> 4, n & 15];
    if (slot > 3) s.raises('a bad quantization table index'); // JERR_DQT_INDEX
    // libjpeg reads any precision but 0 as 16 bits; Pillow's _open has its own view.
    if (precision > 1 && !s.state.opened) s.state.unproven ??= 'a quantization table precision';
    for (let i = 0; i < (precision ? 128 : 64); i++) s.byte();
    s.state.quant[slot] = true;
  }
  if (s.left !== 0) s.raises('DQT of a bad length'); // read on past its end: JERR_BAD_LENGTH
};

/** jdmarker.c get_dac: JERR_DAC_INDEX past table 31, JERR_DAC_VALUE, JERR_BAD_LENGTH. */
const readConditioning = (s: Segment) => {
  while (s.left > 0) {
    const [index, value] = [s.byte(), s.byte()];
    if (index >= 32) s.raises('a bad arithmetic table index');
    if (index < 16 && (value & 15) > value >> 4) s.raises('a bad DC conditioning');
  }
  if (s.left !== 0) s.raises('DAC of a bad length');
};

/** jdmarker.c get_dri: JERR_BAD_LENGTH unless 4, checked before the interval is read. */
const readRestartInterval = (s: Segment) => {
  if (s.left !== 2) s.raises('DRI of a bad length');
  s.state.restartInterval = (s.byte() << 8) | s.byte();
};

const TABLES: Record<number, (s: Segment) => void> = {
  196: readHuffmanTables,
  204: readConditioning,
  219: readQuantTables,
  221: readRestartInterval,
};

/**
 * Pillow's APP handler (JpegImagePlugin.APP) reads some segments without a try: a JFIF or Adobe
 * segment too short for i16(s, 5), an ICC chunk too short for its sequence bytes (SOF) raise
 * there. MPF makes the file an MPO (jpeg_factory), Photoshop resources are parsed by hand:
 * those go the long way.
 */
const pillowAppRefusal = (marker: number, d: Buffer): string | undefined => {
  const startsWith = (text: string) =>
    d.length >= text.length && d.toString('latin1', 0, text.length) === text;
  if (marker === 0xe0 && startsWith('JFIF') && d.length < 7) return 'a short JFIF segment';
  if (marker === 0xe1 && startsWith('Exif\0') && !startsWith('Exif\0\0'))
    return 'an odd EXIF header';
  if (marker === 0xe2 && startsWith('ICC_PROFILE\0') && d.length < 14) return 'a short ICC chunk';
  if (marker === 0xe2 && startsWith('MPF\0')) return 'an MPO index';
  if (marker === 0xed && startsWith('Photoshop 3.0\0')) return 'Photoshop resources';
  if (marker === 0xee && startsWith('Adobe') && d.length < 7) return 'a short Adobe segment';
  return undefined;
};

/**
 * A scan: its header (jdmarker.c get_sos), what starting it checks (jdinput.c start_input_pass:
 * per_scan_setup, latch_quant_tables, the entropy decoder's start_pass), then its entropy-coded
 * data up to the marker that ends it. `start` is where its data starts; returns where that
 * marker starts.
 */
const readScan = (b: Buffer, start: number, d: Uint8Array, state: State): number => {
  // get_sos: JERR_SOS_NO_SOF.
  const frame = state.frame ?? raises(state, 'a scan before the frame header', start);
  // Pillow's _open stops at the first SOS (its segment read by Skip); a frame was there, so
  // ImageFile.__init__ has its mode and size. libjpeg's errors from here on are load()'s.
  state.opened = true;
  const n = d[0] as number;
  if (n < 1 || n > 4 || d.length !== 4 + 2 * n) raises(state, 'SOS of a bad length', start);
  // get_sos' matching, as written: a component is taken when its id matches and the scan slot
  // with *its component index* is free; a component listed twice is JERR_BAD_COMPONENT_ID.
  const slots: (number | undefined)[] = [];
  const tables: [number, number][] = [];
  for (let i = 0; i < n; i++) {
    const [id, t] = [d[1 + 2 * i] as number, d[2 + 2 * i] as number];
    let found = -1;
    for (let ci = 0; ci < frame.components.length && ci < 4; ci++) {
      if (frame.components[ci]?.id === id && slots[ci] === undefined) {
        found = ci;
        break;
      }
    }
    if (found < 0 || slots.includes(found)) raises(state, 'a bad component id in a scan', start);
    slots[i] = found;
    tables.push([t >> 4, t & 15]);
  }
  const scan = slots.map((ci) => frame.components[ci as number] as Component);
  const [ss, se] = [d[1 + 2 * n] as number, d[2 + 2 * n] as number];
  const [ah, al] = [(d[3 + 2 * n] as number) >> 4, (d[3 + 2 * n] as number) & 15];

  if (state.scans === 0) {
    state.multiScan = frame.progressive || n < frame.components.length;
    // The call that decodes the last row of a single-scan file was handed every byte up to the
    // next MAXBLOCK boundary past the scan's first byte of data (see the header).
    if (!state.multiScan)
      state.reached = Math.min(b.length, Math.ceil((start + 1) / MAXBLOCK) * MAXBLOCK);
  }
  // jdinput.c consume_markers: a second SOS in a single-scan file is JERR_EOI_EXPECTED.
  else if (!state.multiScan) raises(state, 'a second scan in a single-scan file', start);
  state.scans++;

  // per_scan_setup: JERR_BAD_MCU_SIZE past 10 blocks an MCU.
  if (n > 1 && scan.reduce((sum, c) => sum + c.h * c.v, 0) > D_MAX_BLOCKS_IN_MCU)
    raises(state, 'too many blocks in an MCU', start);
  const first = scan[0] as Component;
  const mcus =
    n === 1
      ? first.widthInBlocks * first.heightInBlocks
      : Math.ceil(frame.width / (8 * frame.hMax)) * Math.ceil(frame.height / (8 * frame.vMax));
  for (const c of scan) {
    if (c.latched) continue;
    // latch_quant_tables: JERR_NO_QUANT_TABLE.
    if (c.quantTable > 3 || !state.quant[c.quantTable])
      raises(state, 'a missing quantization table', start);
    c.latched = true;
  }
  /**
   * A table as jpeg_make_d_derived_tbl takes it: JERR_NO_HUFF_TABLE past slot 3 or for an
   * empty slot 2 or 3, JERR_BAD_HUFF_TABLE for a bad one. jinit_huff_decoder and
   * jinit_phuff_decoder fill empty slots 0 and 1 with the standard tables (DC symbols up to
   * 11): followed for "fails" only.
   */
  const table = (set: (HuffmanTable | undefined)[], no: number) => {
    const t = set[no];
    if (no > 3 || (no > 1 && t === undefined)) raises(state, 'a missing Huffman table', start);
    if (t === undefined) {
      state.unproven ??= 'a standard Huffman table';
      return 11;
    }
    if (t.bad) raises(state, t.bad, start);
    return t.maxSymbol;
  };

  // Each check below is an error but the last of each branch, which is left to libvips.
  if (frame.arithmetic) {
    // jdarith.c start_pass: the same JERR_BAD_PROGRESSION checks for a progressive scan, a
    // warning for a sequential one; its tables are numbered 0 to 15, every one of them defined.
    const dcBand = ss === 0;
    const bad =
      (dcBand ? se !== 0 : ss > se || se > 63 || n !== 1) || (ah !== 0 && al !== ah - 1) || al > 13;
    if (frame.progressive && bad) raises(state, 'invalid progression parameters', start);
  } else if (frame.progressive) {
    // jdphuff.c start_pass_phuff_decoder: JERR_BAD_PROGRESSION (the inter-scan checks after it
    // are warnings).
    const dcBand = ss === 0;
    const bad =
      (dcBand ? se !== 0 : ss > se || se > 63 || n !== 1) || (ah !== 0 && al !== ah - 1) || al > 13;
    if (bad) raises(state, 'invalid progression parameters', start);
    const maxima = tables.map(([dcNo, acNo]) =>
      !dcBand ? table(state.ac, acNo) : ah === 0 ? table(state.dc, dcNo) : 0,
    );
    for (const [i, c] of scan.entries()) {
      if (!dcBand || ah !== 0) continue;
      // decode_mcu_DC_first raises JERR_BAD_DCT_COEF when the DC predictor leaves int range.
      // Each block moves it by at most 2^s - 1, s the table's largest symbol: when the scan
      // has too few blocks for that to add up to 2^31, no data can make it raise.
      const blocks = n === 1 ? mcus : mcus * c.h * c.v;
      if (blocks * (2 ** (maxima[i] as number) - 1) > INT_MAX)
        unclear('DC overflow cannot be ruled out');
    }
  } else {
    for (const [dcNo, acNo] of tables) {
      table(state.dc, dcNo);
      table(state.ac, acNo);
    }
    // jdhuff.c start_pass_huff_decoder only warns on these (JWRN_NOT_SEQUENTIAL); followed for
    // "fails" only.
    if (ss !== 0 || se !== 63 || ah !== 0 || al !== 0)
      state.unproven ??= 'odd sequential scan parameters';
  }

  // The restart markers this scan must hold: one after each interval but the last.
  const restarts = state.restartInterval > 0 ? Math.ceil(mcus / state.restartInterval) - 1 : 0;
  return scanEnd(b, start, restarts, state);
};

/**
 * Where the scan's entropy-coded data ends: the first FF followed by neither a stuffed 00 nor a
 * restart marker (jpeg_fill_bit_buffer and next_marker agree on that; both swallow fill FFs
 * first: "we will accept multiple FF's followed by a 0 as meaning a single FF data byte").
 * Restart markers must be RST0, RST1, … in order and as many as the intervals need, so that
 * read_restart_marker always finds the one it expects and never calls jpeg_resync_to_restart,
 * which may read on. Returns where the FF before the marker code is.
 */
const scanEnd = (b: Buffer, from: number, restarts: number, state: State): number => {
  let seen = 0;
  let at = from;
  for (;;) {
    const ff = b.indexOf(0xff, at);
    let code = ff < 0 ? b.length : ff + 1;
    while (b[code] === 0xff) code++;
    if (code >= b.length) truncated(state, 'the scan data does not end at a marker');
    // Fill FFs: followed for "fails" only (decode_mcu_fast backs out and leaves them to the slow
    // path, which swallows them).
    if (code > ff + 1) state.unproven ??= 'fill bytes in the scan data';
    const next = b[code] as number;
    if (next === 0x00) {
      at = code + 1;
    } else if (next >= 0xd0 && next <= 0xd7) {
      if (seen >= restarts || next !== 0xd0 + (seen & 7)) unclear('restart markers out of order');
      seen++;
      at = code + 1;
    } else {
      // Restarts missing before a marker: read_restart_marker finds it where it expects RSTn,
      // and jpeg_resync_to_restart leaves a valid marker (0xC0 and up) unread (action 3), so the
      // rest of the scan decodes as empty segments and read_markers meets that marker next.
      // An invalid one, it would skip to the next marker (action 2): not followed.
      if (seen !== restarts) {
        if (next < 0xc0) unclear('restart markers missing');
        state.unproven ??= 'restart markers missing';
      }
      return code - 1;
    }
  }
};
