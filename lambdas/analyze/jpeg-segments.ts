/**
 * The marker segments the JPEG walk reads as libjpeg does, byte by byte (tables, restart
 * interval), and the APP segments Pillow's _open may refuse.
 */
import { raises, type State, truncated, u16 } from './jpeg-state.ts';

/**
 * A marker segment read from the stream as jdmarker.c reads it (INPUT_BYTE): bytes past the
 * end of the file suspend libjpeg, and `at` is where it has read to, for `raises`.
 */
export class Segment {
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

export const TABLES: Record<number, (s: Segment) => void> = {
  196: readHuffmanTables,
  204: readConditioning,
  219: readQuantTables,
  221: readRestartInterval,
};

/**
 * Pillow's APP handler (JpegImagePlugin.APP) reads some segments without a try: a JFIF or Adobe
 * segment too short for i16(s, 5) raises there (struct.error: Image.open tries the plugins
 * without a signature, and none takes the file), so `raises`. An ICC chunk too short for its
 * sequence bytes may raise in SOF (icclist[0][13], once sorted). MPF makes the file an MPO
 * (jpeg_factory), Photoshop resources are parsed by hand: those go the long way.
 */
export const pillowAppRefusal = (
  marker: number,
  d: Buffer,
): { reason: string; raises: boolean } | undefined => {
  const startsWith = (text: string) =>
    d.length >= text.length && d.toString('latin1', 0, text.length) === text;
  const [certain, maybe] = [
    (reason: string) => ({ reason, raises: true }),
    (reason: string) => ({ reason, raises: false }),
  ];
  if (marker === 0xe0 && startsWith('JFIF') && d.length < 7) return certain('a short JFIF segment');
  if (marker === 0xe1 && startsWith('Exif\0') && !startsWith('Exif\0\0'))
    return maybe('an odd EXIF header');
  if (marker === 0xe2 && startsWith('ICC_PROFILE\0') && d.length < 14)
    return maybe('a short ICC chunk');
  if (marker === 0xe2 && startsWith('MPF\0')) return maybe('an MPO index');
  if (marker === 0xed && startsWith('Photoshop 3.0\0')) return maybe('Photoshop resources');
  if (marker === 0xee && startsWith('Adobe') && d.length < 7)
    return certain('a short Adobe segment');
  return undefined;
};
