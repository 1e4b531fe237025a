/**
 * A scan of the JPEG walk: what starting it makes libjpeg check, and where its entropy-coded
 * data ends.
 */
import {
  type Component,
  type HuffmanTable,
  raises,
  type State,
  truncated,
  unclear,
} from './jpeg-state.ts';

const D_MAX_BLOCKS_IN_MCU = 10; // jpeglib.h, checked by jdinput.c per_scan_setup
const INT_MAX = 2 ** 31 - 1;
const MAXBLOCK = 65_536; // Pillow's ImageFile.MAXBLOCK, the size of each read load() feeds

/**
 * A scan: its header (jdmarker.c get_sos), what starting it checks (jdinput.c start_input_pass:
 * per_scan_setup, latch_quant_tables, the entropy decoder's start_pass), then its entropy-coded
 * data up to the marker that ends it. `start` is where its data starts; returns where that
 * marker starts.
 */
export const readScan = (b: Buffer, start: number, d: Uint8Array, state: State): number => {
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
    if (frame.progressive && badProgression(ss, se, ah, al, n))
      raises(state, 'invalid progression parameters', start);
  } else if (frame.progressive) {
    // jdphuff.c start_pass_phuff_decoder: JERR_BAD_PROGRESSION (the inter-scan checks after it
    // are warnings).
    if (badProgression(ss, se, ah, al, n)) raises(state, 'invalid progression parameters', start);
    const dcBand = ss === 0;
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
 * JERR_BAD_PROGRESSION as jdphuff.c start_pass_phuff_decoder and jdarith.c start_pass check it:
 * a DC scan (Ss 0) has Se 0, an AC scan of one component has Ss ≤ Se ≤ 63; a refinement (Ah
 * set) lowers Al by one; Al is at most 13.
 */
const badProgression = (ss: number, se: number, ah: number, al: number, components: number) =>
  (ss === 0 ? se !== 0 : ss > se || se > 63 || components !== 1) ||
  (ah !== 0 && al !== ah - 1) ||
  al > 13;

/**
 * Where the scan's entropy-coded data ends: the first FF followed by neither a stuffed 00 nor a
 * restart marker (jpeg_fill_bit_buffer and next_marker agree on that; both swallow fill FFs
 * first: "we will accept multiple FF's followed by a 0 as meaning a single FF data byte").
 * Restart markers must be RST0, RST1, … in order and as many as the intervals need, so that
 * read_restart_marker always finds the one it expects and never calls jpeg_resync_to_restart,
 * which may read on. Returns where the FF before the marker code is.
 *
 * Once they are not, the walk goes on for "fails" only, to the first marker from 0xC0 up that
 * is not RSTn: the entropy decoder stops at any marker, next_marker at the first it meets, and
 * jpeg_resync_to_restart skips markers below 0xC0 and RSTn it does not want (action 2) but
 * leaves that one unread (action 3). So libjpeg meets it next, or raises before it.
 */
const scanEnd = (b: Buffer, from: number, restarts: number, state: State): number => {
  let seen = 0;
  let lost = false;
  const lose = (reason: string) => {
    state.unproven ??= reason;
    lost = true;
  };
  for (let at = from; ; ) {
    const ff = b.indexOf(0xff, at);
    let code = ff < 0 ? b.length : ff + 1;
    while (b[code] === 0xff) code++;
    if (code >= b.length) truncated(state, 'the scan data does not end at a marker');
    // Fill FFs: followed for "fails" only (decode_mcu_fast backs out and leaves them to the slow
    // path, which swallows them).
    if (code > ff + 1) state.unproven ??= 'fill bytes in the scan data';
    const next = b[code] as number;
    at = code + 1;
    if (next === 0x00) continue;
    if (next >= 0xd0 && next <= 0xd7) {
      // No restart due in this scan (no interval, or one as long as the scan): libjpeg never
      // looks for RSTn (process_restart), so the entropy decoder stops at this one as at any
      // marker, and read_markers takes it as parameterless.
      if (restarts === 0) return code - 1;
      if (seen >= restarts || next !== 0xd0 + (seen & 7)) lose('restart markers out of order');
      seen++;
      continue;
    }
    // Restarts missing before a marker: read_restart_marker finds it where it expects RSTn.
    // jpeg_resync_to_restart leaves a valid marker (0xC0 and up) unread (action 3), so the rest
    // of the scan decodes as empty segments and read_markers meets that marker next; an invalid
    // one, it skips (action 2).
    if (seen !== restarts && !lost) {
      if (next < 0xc0) lose('restart markers missing');
      else state.unproven ??= 'restart markers missing';
    }
    if (!lost || next >= 0xc0) return code - 1;
  }
};
