/**
 * The damaged JPEGs of jpeg-walk.test.ts: each a committed file changed in one place, so that
 * the original's answer recorded for it (fixtures/jpeg-walk/answers.json, written by
 * make_answers.ts beside it) applies byte for byte. Seeds: files of the differential corpus
 * (written by Pillow), and two with restart markers written by libjpeg-turbo's cjpeg (Pillow
 * and sharp cannot ask for restart markers).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures');
export const JPEG_WALK_FIXTURES = path.join(FIXTURES, 'jpeg-walk');

const corpus = (file: string) => readFileSync(path.join(FIXTURES, 'differential/corpus', file));
const own = (file: string) => readFileSync(path.join(JPEG_WALK_FIXTURES, file));

export interface Mutant {
  name: string;
  bytes: Buffer;
  /** What the walker must say: "succeeds", or "fails" or "unknown" (left to libvips) and why. */
  walk: 'succeeds' | ['fails' | 'unknown', RegExp];
  /** Why libvips alone (analyzeImage with fullDecode, no walk) answers otherwise. */
  libvipsDiffers?: string;
}

/**
 * libvips stops reading at the last row; Pillow's decoder goes on to EOI in
 * jpeg_finish_decompress, and fails on a bad marker there. The walker answers these "fails".
 */
const AFTER_LAST_ROW =
  'libvips reads no further than the last row; Pillow reads on to EOI and fails there';

/** libjpeg under libvips reads these; Pillow's _open does not, and no other plugin does. */
const PILLOW_OPEN = "Pillow's _open refuses what libjpeg reads";

/** Index of a byte sequence, from an offset; throws when absent so a mutant never misfires. */
const find = (b: Buffer, bytes: number[], from = 0, nth = 0): number => {
  let at = from - 1;
  for (let i = 0; i <= nth; i++) {
    at = b.indexOf(Buffer.from(bytes), at + 1);
    if (at < 0) throw new Error(`${Buffer.from(bytes).toString('hex')} #${nth} not found`);
  }
  return at;
};

const splice = (b: Buffer, at: number, remove: number, insert: number[] = []) =>
  Buffer.concat([b.subarray(0, at), Buffer.from(insert), b.subarray(at + remove)]);

const set = (b: Buffer, at: number, value: number) => splice(b, at, 1, [value]);

/** Where the nth scan's header starts (its FF DA) and where its entropy-coded data starts. */
const scan = (b: Buffer, nth = 0) => {
  const sos = find(b, [0xff, 0xda], 0, nth);
  const data = sos + 2 + b.readUInt16BE(sos + 2);
  const count = b[sos + 4] as number;
  /** Offsets of Ss, Se and Ah/Al in the header. */
  return { sos, data, ss: sos + 5 + 2 * count, se: sos + 6 + 2 * count, a: sos + 7 + 2 * count };
};

/** The nth restart marker of the file (RSTn never occurs outside scan data). */
const restart = (b: Buffer, nth: number) => {
  let seen = 0;
  for (let at = b.indexOf(0xff, scan(b).data); at >= 0; at = b.indexOf(0xff, at + 2)) {
    const next = b[at + 1] as number;
    if (next >= 0xd0 && next <= 0xd7 && seen++ === nth) return at;
  }
  throw new Error(`no restart marker #${nth}`);
};

/** Two more codes of length 1 and two fewer of length 3: the same count, but no code tree. */
const impossibleCode = (b: Buffer) => {
  const bits = find(b, [0xff, 0xc4]) + 5;
  if (b[bits] !== 0 || (b[bits + 2] as number) < 2) throw new Error('not the standard DC table');
  return set(set(b, bits, 2), bits + 2, (b[bits + 2] as number) - 2);
};

/** The first symbol of the first table, a DC table in what libjpeg writes. */
const dcSymbol = (b: Buffer, value: number) => {
  const dht = find(b, [0xff, 0xc4]);
  if (b[dht + 4] !== 0) throw new Error('the first DHT is not DC table 0');
  return set(b, dht + 21, value);
};

/** A comment segment of `length` bytes (its length field included). */
const comment = (length: number) => [
  0xff,
  0xfe,
  length >> 8,
  length & 255,
  ...Array(length - 2).fill(0x20),
];

const JUNK = [0x6a, 0x75, 0x6e, 0x6b, 0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46];

export const jpegMutants = (): Mutant[] => {
  const baseline = corpus('jpeg/RGB_48x32');
  const grey = corpus('jpeg/L_48x32');
  const cmyk = corpus('jpeg/CMYK_48x32');
  const progressive = corpus('jpeg/RGB_progressive');
  const restarts = own('restart.jpg');
  const restartsProgressive = own('restart_progressive.jpg');
  const arithmetic = own('arithmetic.jpg');
  const end = (b: Buffer) => b.length - 2; // every seed ends with its EOI
  const middle = (b: Buffer) => Math.floor((scan(b).data + end(b)) / 2);
  const m = (
    name: string,
    bytes: Buffer,
    walk: Mutant['walk'],
    libvipsDiffers?: string,
  ): Mutant => ({ name, bytes, walk, ...(libvipsDiffers && { libvipsDiffers }) });

  return [
    m('baseline', baseline, 'succeeds'),
    m('grey', grey, 'succeeds'),
    m('cmyk', cmyk, 'succeeds'),
    m('progressive', progressive, 'succeeds'),
    m('restarts', restarts, 'succeeds'),
    m('restarts, progressive', restartsProgressive, 'succeeds'),

    // Cut short: in the headers (libjpeg's jpeg_read_header asks for more, and there is none),
    // in the scan data, in and before the EOI.
    ...[20, 200].map((at) =>
      m(`baseline cut at ${at}`, baseline.subarray(0, at), ['fails', /end/]),
    ),
    ...[middle(baseline), end(baseline) + 1, end(baseline)].map((at) =>
      m(`baseline cut at ${at}`, baseline.subarray(0, at), ['unknown', /end/]),
    ),
    // A multi-scan file is read to its EOI before the first row (jpeg_start_decompress).
    ...[300, middle(progressive), end(progressive)].map((at) =>
      m(`progressive cut at ${at}`, progressive.subarray(0, at), ['fails', /end/]),
    ),
    m('restarts cut before its EOI', restarts.subarray(0, end(restarts)), [
      'unknown',
      /does not end/,
    ]),

    // Damage the Huffman decoder only warns about: Pillow decodes these.
    m('baseline with scan data zeroed', zeroed(baseline, middle(baseline), 40), 'succeeds'),
    m(
      'progressive with scan data zeroed',
      zeroed(progressive, scan(progressive, 2).data, 30),
      'succeeds',
    ),
    m('baseline cut mid-scan, then EOI', cutThenEnd(baseline, middle(baseline)), 'succeeds'),
    m(
      'progressive cut mid-scan, then EOI',
      cutThenEnd(progressive, middle(progressive)),
      'succeeds',
    ),
    m('restarts cut mid-scan, then EOI', cutThenEnd(restarts, middle(restarts)), [
      'unknown',
      /restart markers missing/,
    ]),
    m('grey with junk after EOI', Buffer.concat([grey, Buffer.from(JUNK)]), 'succeeds'),
    m(
      'baseline with a comment before EOI',
      splice(baseline, end(baseline), 0, [0xff, 0xfe, 0, 4, 0x68, 0x69]),
      'succeeds',
    ),

    // Tables and parameters libjpeg refuses when the scan starts, or when it reads on to EOI.
    m('baseline with an impossible Huffman code', impossibleCode(baseline), [
      'fails',
      /impossible Huffman code/,
    ]),
    m('baseline with a DC symbol over 15', dcSymbol(baseline, 0x20), [
      'fails',
      /DC Huffman symbol/,
    ]),
    m(
      'baseline with a bad DHT after its scan',
      splice(baseline, end(baseline), 0, [0xff, 0xc4, 0, 5, 0, 0, 0]),
      ['fails', /DHT of a bad length/],
      AFTER_LAST_ROW,
    ),
    m(
      'baseline whose component names a missing quantization table',
      set(baseline, find(baseline, [0xff, 0xc0]) + 12, 3),
      ['fails', /missing quantization table/],
    ),
    m('baseline whose scan names an unknown component', set(baseline, scan(baseline).sos + 5, 9), [
      'fails',
      /bad component id/,
    ]),
    m(
      'baseline with its scan repeated',
      repeatScan(baseline),
      ['fails', /second scan in a single-scan file/],
      AFTER_LAST_ROW,
    ),
    m(
      'baseline declaring restarts it lacks',
      splice(baseline, scan(baseline).sos, 0, [0xff, 0xdd, 0, 4, 0, 1]),
      ['unknown', /restart markers missing/],
    ),
    m(
      'baseline with garbage between segments',
      splice(baseline, find(baseline, [0xff, 0xdb]), 0, [0]),
      ['unknown', /between marker segments/],
    ),
    m('progressive DC scan with Se 1', set(progressive, scan(progressive).se, 1), [
      'fails',
      /invalid progression/,
    ]),
    m('progressive AC scan with Al 14', set(progressive, scan(progressive, 1).a, 14), [
      'fails',
      /invalid progression/,
    ]),
    m('progressive AC scan with Ss after Se', set(progressive, scan(progressive, 1).ss, 0x3f), [
      'fails',
      /invalid progression/,
    ]),
    m('progressive without EOI', progressive.subarray(0, end(progressive)), [
      'fails',
      /does not end/,
    ]),

    // Restart markers out of their order, or missing: jpeg_resync_to_restart may read on.
    m('restarts with two markers swapped', swapRestarts(restarts, 1, 2), [
      'unknown',
      /restart markers out of order/,
    ]),
    m('restarts with one marker gone', splice(restarts, restart(restarts, 1), 2), [
      'unknown',
      /restart markers/,
    ]),
    m('restarts with a marker three ahead', set(restarts, restart(restarts, 1) + 1, 0xd4), [
      'unknown',
      /out of order/,
    ]),
    m(
      'restarts, progressive, with a marker repeated',
      set(restartsProgressive, restart(restartsProgressive, 1) + 1, 0xd0),
      ['unknown', /out of order/],
    ),
    m('arithmetic coding', arithmetic, ['unknown', /arithmetic coding/]),

    // Markers read_markers refuses on their code, met after the last row or between scans.
    m(
      'baseline with an unknown marker in its scan data',
      splice(baseline, middle(baseline), 0, [0xff, 0x25]),
      ['fails', /marker 0x25/],
      AFTER_LAST_ROW,
    ),
    m(
      'baseline with a second frame header after its scan',
      splice(baseline, end(baseline), 0, [
        ...baseline.subarray(find(baseline, [0xff, 0xc0]), find(baseline, [0xff, 0xc0]) + 19),
      ]),
      ['fails', /second frame header/],
      AFTER_LAST_ROW,
    ),
    m(
      'arithmetic coding with an unknown marker in its scan data',
      splice(arithmetic, middle(arithmetic), 0, [0xff, 0x25]),
      ['fails', /marker 0x25/],
      AFTER_LAST_ROW,
    ),
    m(
      'progressive with junk and a JPG0 marker between scans',
      splice(progressive, scan(progressive, 2).sos, 0, [0x12, 0x34, 0xff, 0x00, 0xff, 0xff, 0xf0]),
      ['fails', /marker 0xf0/],
    ),
    m(
      'baseline ending in a DQT with a bad index after its scan',
      splice(baseline, end(baseline), 2, [0xff, 0xdb, 0x00, 0x43, 0x05]),
      ['fails', /quantization table index/],
      AFTER_LAST_ROW,
    ),
    m(
      'progressive with a JPG0 marker between scans',
      splice(progressive, scan(progressive, 2).sos, 0, [0xff, 0xf0]),
      ['fails', /marker 0xf0/],
    ),
    // A single-scan file's tail is read only as far as Pillow had handed over when the last row
    // was decoded: the first 65,536 bytes here. Past them, libjpeg suspends and Pillow succeeds.
    m(
      'baseline with an unknown marker after its scan, within the first 64 KiB',
      splice(baseline, end(baseline), 0, [...comment(65_536 - 8 - end(baseline)), 0xff, 0x25]),
      ['fails', /marker 0x25/],
      AFTER_LAST_ROW,
    ),
    m(
      'baseline with an unknown marker after its scan, past the first 64 KiB',
      splice(baseline, end(baseline), 0, [...comment(65_536 - 1 - end(baseline)), 0xff, 0x25]),
      ['unknown', /marker 0x25/],
    ),

    // Found by fuzzing: Pillow decodes these; libvips gave up after too many warnings until its
    // JPEG validation was made `unlimited` (analysis.ts).
    m(
      'progressive with restarts, 25 bytes of a scan gone',
      splice(restartsProgressive, 1212, 25),
      'succeeds',
    ),
    m(
      'progressive with RST6 before a scan header',
      splice(progressive, scan(progressive, 5).sos, 0, [0xff, 0xd6]),
      'succeeds',
    ),
    m(
      'progressive with 23 bytes inserted before a scan',
      splice(progressive, 594, 0, [
        ...Buffer.from('5d47ffc4001d1001000202030101000000000000000000', 'hex'),
      ]),
      'succeeds',
    ),
    m(
      'restarts, 14,150 wide, with 21 bytes of a Huffman table gone',
      splice(splice(restarts, 337, 21), 164, 2, [0xff, 0x37]),
      ['unknown', /between marker segments/],
    ),

    // Warnings and libjpeg's own repairs: followed, for "fails" only.
    m('baseline with Se 62', set(baseline, scan(baseline).se, 62), ['unknown', /odd sequential/]),
    m(
      'baseline with Se 62 and an unknown marker after its scan',
      splice(set(baseline, scan(baseline).se, 62), end(baseline), 0, [0xff, 0x25]),
      ['fails', /marker 0x25/],
      AFTER_LAST_ROW,
    ),
    m(
      'restarts cut mid-scan, then a JPG0 marker',
      Buffer.concat([
        restarts.subarray(0, middle(restarts)),
        Buffer.from([0xff, 0xf0, 0xff, 0xd9]),
      ]),
      ['fails', /marker 0xf0/],
      AFTER_LAST_ROW,
    ),
    // Found by fuzzing: with no restart interval, libjpeg never looks for RSTn, and one in the
    // scan data ends it as any marker does; read_markers then takes it as parameterless.
    m(
      'baseline with a stray RST3 in its scan data',
      splice(baseline, middle(baseline), 0, [0xff, 0xd3]),
      'succeeds',
    ),
    m(
      'baseline with a stray RST3 in its scan data, and an unknown marker after its scan',
      splice(splice(baseline, end(baseline), 0, [0xff, 0x25]), middle(baseline), 0, [0xff, 0xd3]),
      ['fails', /marker 0x25/],
      AFTER_LAST_ROW,
    ),
    m('restarts with an unknown marker for RST1', set(restarts, restart(restarts, 1) + 1, 0x25), [
      'unknown',
      /restart markers missing/,
    ]),
    // Found by fuzzing: past restart markers libjpeg does not find, jpeg_resync_to_restart never
    // skips a marker from 0xC0 up, so libjpeg meets the first one after the scan.
    m(
      'restarts with an unknown marker for RST1, and a bad DHT after its scan',
      splice(
        set(restarts, restart(restarts, 1) + 1, 0x25),
        end(restarts),
        0,
        [0xff, 0xc4, 0, 5, 0, 0, 0],
      ),
      ['fails', /DHT of a bad length/],
      AFTER_LAST_ROW,
    ),
    m(
      'restarts with two markers swapped, and a JPG0 marker after its scan',
      splice(swapRestarts(restarts, 1, 2), end(restarts), 0, [0xff, 0xf0]),
      ['fails', /marker 0xf0/],
      AFTER_LAST_ROW,
    ),

    m(
      'baseline with a filled stuffed byte in its scan data',
      splice(baseline, middle(baseline), 0, [0xff, 0xff, 0x00]),
      ['unknown', /fill bytes/],
    ),
    m(
      'baseline with fill bytes before an unknown marker in its scan data',
      splice(baseline, middle(baseline), 0, [0xff, 0xff, 0xff, 0x25]),
      ['fails', /marker 0x25/],
      AFTER_LAST_ROW,
    ),

    // libvips used to give up on its 100th warning, here in the header: Pillow decodes it.
    m(
      'baseline with 300 empty APP1 segments, each followed by a junk byte',
      splice(
        baseline,
        find(baseline, [0xff, 0xdb]),
        0,
        Array.from({ length: 300 }, () => [0xff, 0xe1, 0x00, 0x02, 0x00]).flat(),
      ),
      ['unknown', /between marker segments/],
    ),

    // Before the first scan: Pillow's _open raises, or returns and libjpeg raises.
    m(
      'baseline with no FF after its SOI',
      set(baseline, 2, 0x00),
      ['fails', /no marker after SOI/],
      PILLOW_OPEN,
    ),
    m(
      'baseline with a JFIF segment too short for Pillow',
      set(baseline, 5, 8),
      ['fails', /short JFIF/],
      PILLOW_OPEN,
    ),
    m(
      'baseline with an Adobe segment too short for Pillow',
      splice(baseline, 2, 0, [0xff, 0xee, 0, 7, ...Buffer.from('Adobe')]),
      ['fails', /short Adobe/],
      PILLOW_OPEN,
    ),
    m(
      'baseline with TEM before its frame header',
      splice(baseline, find(baseline, [0xff, 0xc0]), 0, [0xff, 0x01]),
      ['fails', /TEM/],
      PILLOW_OPEN,
    ),
    m(
      'baseline with an unknown marker before its frame header',
      splice(baseline, find(baseline, [0xff, 0xc0]), 0, [0xff, 0x25]),
      ['fails', /marker 0x25/],
    ),
    m(
      'baseline with junk, then a Huffman table of a bad index',
      splice(
        set(baseline, find(baseline, [0xff, 0xc4]) + 4, 0x05),
        find(baseline, [0xff, 0xc4]),
        0,
        [0x00, 0x11],
      ),
      ['fails', /Huffman table index/],
    ),
  ];
};

const zeroed = (b: Buffer, at: number, length: number) =>
  splice(b, at, length, new Array<number>(length).fill(0));

const cutThenEnd = (b: Buffer, at: number) =>
  Buffer.concat([b.subarray(0, at), Buffer.from([0xff, 0xd9])]);

/** A second copy of the scan (header and data) before the EOI. */
const repeatScan = (b: Buffer) => {
  const { sos } = scan(b);
  return Buffer.concat([b.subarray(0, b.length - 2), b.subarray(sos)]);
};

const swapRestarts = (b: Buffer, i: number, j: number) => {
  const [x, y] = [restart(b, i) + 1, restart(b, j) + 1];
  return set(set(b, x, b[y] as number), y, b[x] as number);
};
