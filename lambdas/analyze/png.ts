/**
 * PNG, read the way Pillow 9.4's PngImagePlugin + ZipDecode read it, because libpng disagrees
 * with it on damaged files in both directions: Pillow checks the CRC of every chunk before the
 * image data (libpng tolerates bad ancillary CRCs), never checks IDAT CRCs, and stops as soon as
 * the last row is decoded (so a cut IEND, adler-32 or trailing chunk does not matter), or at the
 * end of the zlib stream when it falls on a row boundary (a height one row too large passes).
 * Decoding here is inflating and checking each row's filter byte: exactly what Pillow can fail on.
 */
import { constants, crc32, createInflate, inflateSync } from 'node:zlib';
import { MemoryBudgetError } from './errors.ts';
import type { PillowMode } from './pillow.ts';
import { type FormatReader, fail, MEMORY_BUDGET } from './readers.ts';

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
export const isPng = (bytes: Uint8Array) =>
  bytes.length >= 8 && SIGNATURE.every((b, i) => bytes[i] === b);

/** Pillow's _MODES: (bit depth, colour type) → mode. Missing pairs leave the mode unset. */
const MODES: Record<string, PillowMode> = {
  '1,0': '1',
  '2,0': 'L',
  '4,0': 'L',
  '8,0': 'L',
  '16,0': 'I',
  '8,2': 'RGB',
  '16,2': 'RGB',
  '1,3': 'P',
  '2,3': 'P',
  '4,3': 'P',
  '8,3': 'P',
  '8,4': 'LA',
  '16,4': 'RGBA', // Pillow has no 16-bit LA: it widens to RGBA
  '8,6': 'RGBA',
  '16,6': 'RGBA',
};
const SAMPLES: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

export interface PngInfo {
  width: number;
  height: number;
  mode: PillowMode;
  bitDepth: number;
  colourType: number;
  interlaced: boolean;
  hasTransparency: boolean;
  frames: number;
}

/** Chunk type: Pillow's is_cid, four word characters. */
const isCid = (bytes: Uint8Array, at: number) => {
  for (let i = at; i < at + 4; i++) {
    const c = bytes[i];
    if (c === undefined) return false;
    const word =
      (c >= 0x30 && c <= 0x39) ||
      (c >= 0x41 && c <= 0x5a) ||
      (c >= 0x61 && c <= 0x7a) ||
      c === 0x5f;
    if (!word) return false;
  }
  return true;
};

interface Chunk {
  type: string;
  /** Offset of the data; the data may run past the end of the file. */
  data: number;
  length: number;
}

/** ChunkStream.read: 8 bytes of header, or the errors Pillow raises on a short one. */
const readChunk = (bytes: Uint8Array, at: number): Chunk => {
  if (at + 4 > bytes.length) fail('truncated chunk header');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = view.getUint32(at);
  if (!isCid(bytes, at + 4)) fail('broken PNG file (chunk type)');
  const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
  return { type, data: at + 8, length };
};

/** ImageFile._safe_read: the whole chunk or OSError. */
const chunkData = (bytes: Uint8Array, chunk: Chunk) => {
  if (chunk.data + chunk.length > bytes.length) fail('Truncated File Read');
  return bytes.subarray(chunk.data, chunk.data + chunk.length);
};

interface State {
  width: number;
  height: number;
  mode: PillowMode | undefined;
  bitDepth: number;
  colourType: number;
  interlaced: boolean;
  transparency: boolean;
  frames: number | undefined;
  seq: number | undefined;
  bbox: [number, number, number, number] | undefined;
}

const u32 = (d: Uint8Array, at: number) => {
  if (at + 4 > d.length) fail('struct.error');
  return (
    (d[at] as number) * 2 ** 24 +
    ((d[at + 1] as number) << 16) +
    ((d[at + 2] as number) << 8) +
    (d[at + 3] as number)
  );
};

/** The chunk handlers' own checks (PngStream.chunk_*); unknown chunks are only read. */
const handle = (s: State, type: string, d: Uint8Array) => {
  switch (type) {
    case 'IHDR':
      if (d.length < 13) fail('Truncated IHDR chunk');
      s.width = u32(d, 0);
      s.height = u32(d, 4);
      s.bitDepth = d[8] as number;
      s.colourType = d[9] as number;
      s.mode = MODES[`${d[8]},${d[9]}`];
      s.interlaced = d[12] !== 0;
      if (d[11] !== 0) fail('unknown filter category');
      return;
    case 'tRNS':
      s.transparency = true;
      // i16() on a short chunk raises struct.error.
      if ((s.mode === '1' || s.mode === 'L' || s.mode === 'I') && d.length < 2)
        fail('struct.error');
      if (s.mode === 'RGB' && d.length < 6) fail('struct.error');
      return;
    case 'gAMA':
      u32(d, 0);
      return;
    case 'sRGB':
      if (d.length < 1) fail('Truncated sRGB chunk');
      return;
    case 'pHYs':
      if (d.length < 9) fail('Truncated pHYs chunk');
      return;
    case 'iCCP': {
      const i = d.indexOf(0);
      const method = d[i < 0 ? d.length - 1 : i];
      if (method === undefined) fail('IndexError');
      if (method !== 0) fail('Unknown compression method in iCCP chunk');
      return;
    }
    case 'zTXt': {
      const i = d.indexOf(0);
      const method = i < 0 ? 0 : (d[i + 1] ?? 0);
      if (method !== 0) fail('Unknown compression method in zTXt chunk');
      return;
    }
    case 'acTL':
      if (d.length < 8) fail('APNG contains truncated acTL chunk');
      if (s.frames !== undefined) s.frames = undefined;
      else {
        const n = u32(d, 0);
        if (n !== 0 && n <= 0x80000000) s.frames = n;
      }
      return;
    case 'fcTL': {
      if (d.length < 26) fail('APNG contains truncated fcTL chunk');
      const seq = u32(d, 0);
      if ((s.seq === undefined && seq !== 0) || (s.seq !== undefined && s.seq !== seq - 1))
        fail('APNG contains frame sequence errors');
      s.seq = seq;
      const [w, h, x, y] = [u32(d, 4), u32(d, 8), u32(d, 12), u32(d, 16)];
      if (x + w > s.width || y + h > s.height) fail('APNG contains invalid frames');
      s.bbox = [x, y, x + w, y + h];
      return;
    }
  }
};

/** Bytes of filtered data per row (filter byte included) for each row Pillow decodes. */
const rowSizes = (width: number, height: number, bitsPerPixel: number, interlaced: boolean) => {
  const row = (w: number) => 1 + Math.ceil((w * bitsPerPixel) / 8);
  if (!interlaced) return { rows: height, sizes: [{ count: height, size: row(width) }] };
  const passes = [
    [0, 0, 8, 8],
    [4, 0, 8, 8],
    [0, 4, 4, 8],
    [2, 0, 4, 4],
    [0, 2, 2, 4],
    [1, 0, 2, 2],
    [0, 1, 1, 2],
  ] as const;
  const sizes: { count: number; size: number }[] = [];
  let rows = 0;
  for (const [x0, y0, dx, dy] of passes) {
    const w = Math.ceil(Math.max(0, width - x0) / dx);
    const h = Math.ceil(Math.max(0, height - y0) / dy);
    if (w === 0 || h === 0) continue;
    sizes.push({ count: h, size: row(w) });
    rows += h;
  }
  return { rows, sizes };
};

/**
 * Inflates the image data as far as it goes: the output (at most `limit` bytes, so a zlib bomb
 * costs nothing), whether the stream ended, and whether it stopped on corrupt data (where: the
 * longest prefix that inflates, which is what Pillow's row-by-row decoder had before the error).
 */
const inflate = (data: Uint8Array, limit: number) => {
  const attempt = (input: Uint8Array, finishFlush: number): Buffer | string => {
    try {
      // Large output chunks: fewer buffers to grow and join for a 12 MP image.
      return inflateSync(input, { maxOutputLength: limit, finishFlush, chunkSize: 256 * 1024 });
    } catch (error) {
      return (error as { code?: string }).code ?? 'error';
    }
  };
  const partial = (input: Uint8Array) => attempt(input, constants.Z_SYNC_FLUSH);
  /** The longest prefix of `input` whose output fits the limit (valid when `input` is too big). */
  const fitting = (input: Uint8Array) => {
    let [good, bad] = [0, input.length];
    while (bad - good > 1) {
      const mid = (good + bad) >>> 1;
      if (typeof partial(input.subarray(0, mid)) === 'string') bad = mid;
      else good = mid;
    }
    return partial(input.subarray(0, good)) as Buffer;
  };
  const whole = attempt(data, constants.Z_FINISH);
  if (typeof whole !== 'string') return { out: whole, ended: true, corrupt: false };
  if (whole === 'ERR_BUFFER_TOO_LARGE') return { out: fitting(data), ended: false, corrupt: false };
  if (whole === 'Z_BUF_ERROR') {
    const cut = partial(data);
    return { out: typeof cut === 'string' ? fitting(data) : cut, ended: false, corrupt: false };
  }
  // Corrupt data: find the longest prefix that still inflates.
  let [good, bad] = [0, data.length];
  while (bad - good > 1) {
    const mid = (good + bad) >>> 1;
    const result = partial(data.subarray(0, mid));
    if (result === 'ERR_BUFFER_TOO_LARGE')
      return { out: fitting(data.subarray(0, mid)), ended: false, corrupt: false };
    if (typeof result === 'string') bad = mid;
    else good = mid;
  }
  return { out: partial(data.subarray(0, good)) as Buffer, ended: false, corrupt: true };
};

/** What Image.open found, and the image data load() will feed its decoder. */
interface Opened {
  s: State;
  mode: PillowMode;
  /** The consecutive IDAT chunks' data. */
  parts: Uint8Array[];
  /** Where the chunks after the image data start. */
  next: number;
  layout: ReturnType<typeof rowSizes>;
  /** Bytes of filtered rows the decoder needs. */
  required: number;
}

const openPng = (bytes: Uint8Array, checkPixels: (pixels: number) => void): Opened => {
  const s: State = {
    width: 0,
    height: 0,
    mode: undefined,
    bitDepth: 0,
    colourType: 0,
    interlaced: false,
    transparency: false,
    frames: undefined,
    seq: undefined,
    bbox: undefined,
  };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // Image.open: chunks up to the first IDAT, each CRC checked.
  let at = 8;
  let chunk: Chunk;
  for (;;) {
    chunk = readChunk(bytes, at);
    if (chunk.type === 'IDAT' || chunk.type === 'IEND') break;
    if (chunk.type === 'fdAT') fail('APNG frame data before the default image');
    const data = chunkData(bytes, chunk);
    handle(s, chunk.type, data);
    const end = chunk.data + chunk.length;
    if (end + 4 > bytes.length) fail('broken PNG file (incomplete checksum)');
    if (crc32(bytes.subarray(at + 4, end)) !== view.getUint32(end))
      fail('broken PNG file (bad checksum)');
    at = end + 4;
  }
  if (!s.mode || s.width <= 0 || s.height <= 0) fail('not identified by this driver');
  const mode = s.mode as PillowMode;
  checkPixels(s.width * s.height);
  if (chunk.type !== 'IDAT') fail('cannot load this image');

  // load(): consecutive IDAT chunks feed the decoder; their CRCs are skipped, not checked.
  const parts: Uint8Array[] = [];
  let next = chunk.data;
  for (;;) {
    const end = Math.min(chunk.data + chunk.length, bytes.length);
    parts.push(bytes.subarray(chunk.data, end));
    next = chunk.data + chunk.length + 4;
    if (next + 8 > bytes.length) break;
    const following = readChunkOrUndefined(bytes, next);
    if (following?.type !== 'IDAT') break;
    chunk = following;
  }
  const [x0, y0, x1, y1] = s.bbox ?? [0, 0, s.width, s.height];
  const layout = rowSizes(
    x1 - x0,
    y1 - y0,
    s.bitDepth * (SAMPLES[s.colourType] ?? 1),
    s.interlaced,
  );
  const required = layout.sizes.reduce((sum, p) => sum + p.count * p.size, 0);
  // Inflating holds the filtered rows: bounded, as the decoded image would be in Pillow.
  if (required > MEMORY_BUDGET) throw new MemoryBudgetError(required);
  return { s, mode, parts, next, layout, required };
};

/** The slack lets the longest fitting prefix cover every row (one input byte inflates to < 4 KB). */
const SLACK = 4096;

/** load(): the rows as Pillow's decoder meets them, damaged data included. */
const checkRows = (bytes: Uint8Array, { s, mode, parts, next, layout, required }: Opened) => {
  const { out, ended, corrupt } = inflate(Buffer.concat(parts), required + SLACK);
  let decoded = 0;
  let offset = 0;
  for (const pass of layout.sizes) {
    for (let r = 0; r < pass.count; r++) {
      if (offset + pass.size > out.length) break;
      if ((out[offset] as number) > 4) fail('unknown PNG filter type');
      offset += pass.size;
      decoded++;
    }
  }
  const complete = decoded === layout.rows;
  // The last row ending with the checksum in the same inflate call fails when it is wrong.
  if (complete && !(corrupt && out.length === required)) return finish(bytes, s, mode, next);
  // A stream that ends on a row boundary ends the image early, without error.
  if (ended && offset === out.length && decoded > 0) return finish(bytes, s, mode, next);
  return fail(corrupt ? 'broken data stream' : 'image file is truncated');
};

/** Reads a PNG as Pillow does; throws FormatError where Pillow (or NumPy on its result) raised. */
export const readPng = (bytes: Uint8Array, checkPixels: (pixels: number) => void): PngInfo =>
  checkRows(bytes, openPng(bytes, checkPixels));

/**
 * Below this many bytes of rows the synchronous inflate is cheaper than a stream's round trips
 * to the thread pool.
 */
const STREAM_FROM = 4 * 2 ** 20;

/**
 * readPng for large images, by a fast path for the common case: the data is inflated as a
 * stream on the thread pool, each 1 MB of output checked (row filter bytes) and dropped, rather
 * than inflated into one buffer as large as the image, then joined. Only a stream that ends
 * cleanly, within the slack, with every row present and valid, is answered here: that is
 * exactly where the careful path answers "complete" too. Anything else (damage, early end, data
 * past the slack) goes the careful way, so the answers are the same.
 */
export const readPngLarge = async (
  bytes: Uint8Array,
  checkPixels: (pixels: number) => void,
  streamFrom = STREAM_FROM,
): Promise<PngInfo> => {
  const opened = openPng(bytes, checkPixels);
  const { s, mode, parts, next, layout, required } = opened;
  if (required >= streamFrom && (await inflatesCleanly(parts, layout.sizes, required + SLACK)))
    return finish(bytes, s, mode, next);
  return checkRows(bytes, opened);
};

const inflatesCleanly = (
  parts: Uint8Array[],
  sizes: { count: number; size: number }[],
  limit: number,
) =>
  new Promise<boolean>((resolve) => {
    const stream = createInflate({ chunkSize: 2 ** 20 });
    let [total, pass, left, row, valid] = [0, 0, sizes[0]?.count ?? 0, 0, true];
    const done = (answer: boolean) => {
      stream.destroy();
      resolve(answer);
    };
    stream.on('data', (chunk: Buffer) => {
      const end = total + chunk.length;
      // `row` is where the next row's filter byte is in the whole output.
      for (let size = sizes[pass]?.size ?? 0; valid && size > 0 && row < end; ) {
        if ((chunk[row - total] as number) > 4) valid = false;
        row += size;
        if (--left === 0) {
          pass++;
          left = sizes[pass]?.count ?? 0;
          size = sizes[pass]?.size ?? 0;
        }
      }
      total = end;
      if (!valid || total > limit) done(false);
    });
    stream.on('error', () => done(false));
    stream.on('end', () => done(valid && pass === sizes.length && total >= row));
    // One write a megabyte: every write is a trip to the thread pool (IDAT chunks are often 8 KB).
    let group: Uint8Array[] = [];
    let grouped = 0;
    for (const part of parts) {
      group.push(part);
      grouped += part.length;
      if (grouped >= 2 ** 20) {
        stream.write(Buffer.concat(group));
        [group, grouped] = [[], 0];
      }
    }
    stream.end(Buffer.concat(group));
  });

const readChunkOrUndefined = (bytes: Uint8Array, at: number) => {
  try {
    return readChunk(bytes, at);
  } catch {
    return undefined;
  }
};

/**
 * load_end(): the chunks after the image data are read up to IEND. A truncated header ends the
 * walk quietly, but a chunk cut short, or one a handler rejects, fails the load.
 */
const finish = (bytes: Uint8Array, s: State, mode: PillowMode, from: number): PngInfo => {
  let at = from;
  const animated = (s.frames ?? 1) > 1;
  for (;;) {
    if (at + 8 > bytes.length) break;
    const chunk = readChunkOrUndefined(bytes, at);
    if (!chunk || chunk.type === 'IEND') break;
    if (chunk.type === 'fcTL' && animated) break;
    const length = chunk.type === 'fdAT' ? chunk.length - 4 : chunk.length;
    if (chunk.type === 'fdAT' && chunk.length < 4) fail('APNG contains truncated fDAT chunk');
    const data = chunkData(bytes, { ...chunk, length: Math.max(0, length) });
    if (chunk.type !== 'IDAT' && chunk.type !== 'fdAT') handle(s, chunk.type, data);
    at = chunk.data + chunk.length + 4;
  }
  return {
    width: s.width,
    height: s.height,
    mode,
    bitDepth: s.bitDepth,
    colourType: s.colourType,
    interlaced: s.interlaced,
    hasTransparency: s.transparency || s.colourType === 4 || s.colourType === 6,
    frames: s.frames ?? 1,
  };
};

const describePng = (info: PngInfo) => {
  const grey = info.colourType === 0 || info.colourType === 4;
  const deep = info.bitDepth === 16;
  return {
    ...info,
    hasAlpha: info.hasTransparency,
    isPalette: info.colourType === 3,
    // libvips' names, as sharp reports them for the other formats.
    colourSpace: grey ? (deep ? 'grey16' : 'b-w') : deep ? 'rgb16' : 'srgb',
    pages: info.frames,
    isProgressive: info.interlaced,
  };
};

export const png: FormatReader = {
  format: 'png',
  mediaType: 'image/png',
  accepts: isPng,
  read: (b, checkPixels) => describePng(readPng(b, checkPixels)),
  readLarge: async (b, checkPixels) => describePng(await readPngLarge(b, checkPixels)),
};
