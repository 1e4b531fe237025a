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
 * scan, what its own parser might refuse leaves the walk going for "fails" only, and what it
 * certainly refuses (TEM, a short JFIF or Adobe segment) is "fails".
 *
 * The marker segments are read in jpeg-segments.ts, the scans in jpeg-scan.ts; jpeg-state.ts
 * holds what the walk knows so far and how it stops.
 */
import { readScan } from './jpeg-scan.ts';
import { pillowAppRefusal, Segment, TABLES } from './jpeg-segments.ts';
import {
  type Component,
  Fails,
  type Frame,
  raises,
  type State,
  truncated,
  Unclear,
  u16,
  unclear,
} from './jpeg-state.ts';

export type JpegVerdict =
  | { verdict: 'succeeds' }
  | { verdict: 'fails' | 'unknown'; reason: string };

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

const JPEG_MAX_DIMENSION = 65500; // jmorecfg.h, checked by jdinput.c initial_setup
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
      const refusal = state.opened ? undefined : pillowAppRefusal(marker, data);
      // Pillow's _open has framed every segment up to here as libjpeg does, unless something
      // before made the walk unsure: then it reaches this one.
      if (refusal?.raises && state.unproven === undefined) throw new Fails(refusal.reason);
      state.unproven ??= refusal?.reason;
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
