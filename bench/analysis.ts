/**
 * Analysis cost by format and size class: analyzeImage against a full raw() decode of the same
 * bytes, measured in alternation in the same run (ours / full: lower is better; target ≤ 0.3 for
 * 12 MP files), and the fixed cost per small image (target ≤ 1 ms median). Where Debian's Pillow
 * is installed, the original algorithm is timed on the same bytes too (GIF: no slower than it).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { createInflate } from 'node:zlib';
import sharp from 'sharp';
import { analyzeImage } from '../lambdas/analyze/analysis.ts';
import { isFailure } from '../lambdas/shared/types.ts';
import { fmt, measure, measurePair, median } from './measure.ts';

const CORPUS = path.resolve(import.meta.dirname, '../test/fixtures/differential');

/** The corpus' unmutated files (all under 100 KB), by format. */
const smallFiles = () => {
  const byFormat = new Map<string, Buffer[]>();
  const lines = readFileSync(path.join(CORPUS, 'answers.jsonl'), 'utf8').trim().split('\n');
  for (const line of lines.slice(1)) {
    const { file } = JSON.parse(line) as { file: string };
    const [format, name] = file.split('/') as [string, string];
    if (name.includes('.') || format === 'junk') continue;
    byFormat.set(format, [
      ...(byFormat.get(format) ?? []),
      readFileSync(path.join(CORPUS, 'corpus', file)),
    ]);
  }
  return byFormat;
};

/** A 4000 × 3000 picture: gradients with grain, so that every format has real data to carry. */
const bigFiles = async () => {
  const [width, height] = [4000, 3000];
  const pixels = Buffer.alloc(width * height * 3);
  let seed = 1;
  for (let i = 0, y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      const grain = (seed >>> 24) & 15;
      pixels[i++] = ((x >> 4) + grain) & 255;
      pixels[i++] = ((y >> 4) + grain) & 255;
      pixels[i++] = ((x + y) >> 5) & 255;
    }
  }
  const image = () => sharp(pixels, { raw: { width, height, channels: 3 } });
  return new Map<string, Buffer>([
    ['jpeg', await image().jpeg({ quality: 85 }).toBuffer()],
    ['jpeg progressive', await image().jpeg({ quality: 85, progressive: true }).toBuffer()],
    ['png', await image().png().toBuffer()],
    ['webp', await image().webp({ quality: 80 }).toBuffer()],
    ['tiff (lzw)', await image().tiff({ compression: 'lzw' }).toBuffer()],
    ['gif', await image().gif().toBuffer()],
  ]);
};

const fullDecode = (bytes: Uint8Array) => sharp(bytes).raw().toBuffer();

/** The IDAT chunks' data of a PNG, joined. */
const imageData = (png: Buffer) => {
  const parts: Buffer[] = [];
  for (let at = 8; at + 8 <= png.length; ) {
    const length = png.readUInt32BE(at);
    if (png.toString('latin1', at + 4, at + 8) === 'IDAT')
      parts.push(png.subarray(at + 8, at + 8 + length));
    at += 12 + length;
  }
  return Buffer.concat(parts);
};

/**
 * The least work the data allows with the decoders at hand, to show where ≤ 0.3× is out of
 * reach: libjpeg and libwebp at their smallest scale (1/8: every coefficient still entropy-
 * decoded), and for PNG inflating alone, with Node's zlib, the output dropped (no unfiltering,
 * no pixels). GIF: our LZW code count is that floor. TIFF: libtiff has no reduced decode.
 */
const floors: Record<string, (bytes: Buffer) => () => Promise<unknown>> = {
  jpeg: (b) => () => sharp(b).resize(1, 1, { fit: 'fill' }).raw().toBuffer(),
  'jpeg progressive': (b) => () => sharp(b).resize(1, 1, { fit: 'fill' }).raw().toBuffer(),
  webp: (b) => () => sharp(b).resize(1, 1, { fit: 'fill' }).raw().toBuffer(),
  png: (b) => {
    const data = imageData(b);
    return () =>
      new Promise((resolve, reject) => {
        const stream = createInflate({ chunkSize: 2 ** 20 });
        stream
          .on('data', () => {})
          .on('end', resolve)
          .on('error', reject);
        stream.end(data);
      });
  },
};
const decodable = new Set(['jpeg', 'png', 'webp', 'tiff', 'gif', 'avif']);

/** Median ms of the original algorithm per file, or undefined without Debian's Pillow. */
const pillowMs = (files: Map<string, Buffer>): Map<string, number> | undefined => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-pillow-'));
  try {
    const names = [...files.keys()];
    for (const [i, name] of names.entries())
      writeFileSync(path.join(dir, String(i)), files.get(name) as Buffer);
    const script = `
import io, json, sys, time, numpy
from PIL import Image
out = []
for i in range(${names.length}):
    b = open(f"${dir}/{i}", "rb").read()
    times = []
    while len(times) < 5 or sum(times) < 1.5:
        t = time.perf_counter(); numpy.array(Image.open(io.BytesIO(b))); times.append(time.perf_counter() - t)
    out.append(sorted(times)[len(times) // 2] * 1000)
print(json.dumps(out))`;
    const run = spawnSync('/usr/bin/python3', ['-c', script], { encoding: 'utf8' });
    if (run.status !== 0) return undefined;
    const ms = JSON.parse(run.stdout) as number[];
    return new Map(names.map((name, i) => [name, ms[i] as number]));
  } catch {
    return undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

/**
 * Median CPU milliseconds (every thread of the process: libvips' too) of two workloads run in
 * alternation. On a machine shared with other work, wall time counts the waiting for a core;
 * CPU time does not, and it is what a 1-vCPU Lambda pays for.
 */
const cpuPair = async (baseline: () => Promise<unknown>, candidate: () => Promise<unknown>) => {
  const times: [number[], number[]] = [[], []];
  for (let run = 0; run < 11; run++) {
    for (const [i, fn] of [baseline, candidate].entries()) {
      const start = process.cpuUsage();
      await fn();
      const used = process.cpuUsage(start);
      times[i as 0 | 1].push((used.user + used.system) / 1000);
    }
  }
  return median(times[1]) / median(times[0]);
};

export const benchAnalysis = async () => {
  const small = smallFiles();
  const big = await bigFiles();
  const rows: string[] = [];
  const ratios: Record<string, number> = {};

  for (const [format, files] of [...small].sort()) {
    // One after the other: a file's cost, not the thread pool's throughput.
    const ours = async () => {
      for (const f of files) await analyzeImage(f);
    };
    const full = async () => {
      for (const f of files) await fullDecode(f);
    };
    if (!decodable.has(format)) {
      const sample = await measure(ours, { minRuns: 10, minMs: 300 });
      rows.push(
        `| ${format} | small | ${files.length} | ${fmt(sample.medianMs / files.length, 3)} | — | — | | |`,
      );
      continue;
    }
    const [baseline, fast] = await measurePair(full, ours, { minRuns: 10, minMs: 500 });
    const per = (ms: number) => ms / files.length;
    rows.push(
      `| ${format} | small | ${files.length} | ${fmt(per(fast.medianMs), 3)} | ${fmt(per(baseline.medianMs), 3)} | ${fmt(fast.medianMs / baseline.medianMs, 2)} | | |`,
    );
  }

  const pillow = pillowMs(big);
  for (const [format, bytes] of big) {
    // The cheap validation must answer exactly as the full decode it replaces.
    const answer = await analyzeImage(bytes);
    if (isFailure(answer)) throw new Error(`${format}: ${answer.error.message}`);
    if (!isDeepStrictEqual(answer, await analyzeImage(bytes, { fullDecode: true })))
      throw new Error(`${format}: answers differ from the full decode's`);
    const [full, fast] = await measurePair(
      () => fullDecode(bytes),
      () => analyzeImage(bytes),
      {
        minRuns: 5,
        minMs: 2000,
        warmup: 1,
      },
    );
    ratios[format] = fast.medianMs / full.medianMs;
    const cpu = await cpuPair(
      () => fullDecode(bytes),
      () => analyzeImage(bytes),
    );
    const floor = floors[format];
    let floorCell = '—';
    if (floor) {
      const [full2, least] = await measurePair(() => fullDecode(bytes), floor(bytes), {
        minRuns: 5,
        minMs: 2000,
        warmup: 1,
      });
      const leastCpu = await cpuPair(() => fullDecode(bytes), floor(bytes));
      floorCell = `${fmt(least.medianMs / full2.medianMs, 2)} (${fmt(leastCpu, 2)})`;
    }
    const theirs = pillow?.get(format);
    const vsPillow = theirs ? `${fmt(theirs, 0)} ms (${fmt(fast.medianMs / theirs, 2)}×)` : 'n/a';
    rows.push(
      `| ${format} | 12 MP, ${fmt(bytes.length / 1e6, 1)} MB | 1 | ${fmt(fast.medianMs)} | ${fmt(full.medianMs)} | ${fmt(ratios[format] as number, 2)} (${fmt(cpu, 2)}) | ${floorCell} | ${vsPillow} |`,
    );
  }

  // Fixed cost: each small file's median over repeated runs, then the median over the files:
  // all of them, and those libvips decodes (the others are read by our own header readers).
  const perFile = new Map<string, number[]>();
  for (const [format, files] of small)
    for (const f of files) {
      const sample = await measure(() => analyzeImage(f), { minRuns: 7, minMs: 0, warmup: 1 });
      perFile.set(format, [...(perFile.get(format) ?? []), sample.medianMs]);
    }
  const all = [...perFile.values()].flat();
  const viaLibvips = ['jpeg', 'webp', 'tiff', 'avif'].flatMap((f) => perFile.get(f) ?? []);
  const fixed = { all: median(all), libvips: median(viaLibvips) };

  console.log('\n## Analysis: ours against a full raw() decode of the same bytes, same run');
  console.log('(12 MP ratios: wall time, and in brackets CPU time)');
  console.log(
    '| format | size | files | ours, ms a file | full decode, ms a file | ours / full | floor / full | original (Pillow 9.4), ratio |',
  );
  console.log('|---|---|---|---|---|---|---|---|');
  for (const row of rows) console.log(row);
  console.log(
    `\nFixed cost per small image (under 100 KB): median ${fmt(fixed.all, 3)} ms over all ${all.length} files; ${fmt(fixed.libvips, 3)} ms over the ${viaLibvips.length} JPEG, WebP, TIFF and AVIF files libvips decodes`,
  );
  return { fixedCostMs: fixed, bigRatios: ratios };
};
