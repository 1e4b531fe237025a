/**
 * Before and after references, in the same run: the round trip of the 10-image batch and of
 * one 12 MP JPEG through the inline design (the baseline commit, images as base64 in the
 * workflow when they fit) and through this one (every image staged in S3, keys in the
 * workflow), each served by its own process, requests alternated so drift hits both alike.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { isDeepStrictEqual, promisify } from 'node:util';
import { FIXTURE_IMAGES, fixtureImage } from '../test/support/fixtures.ts';
import { BATCH } from './e2e.ts';
import { fmt, measurePair } from './measure.ts';

const run = promisify(execFile);

/** A Python with the original's stack (Pillow 9.4, NumPy 1.24), or undefined. */
const findPython = async () => {
  for (const python of [process.env.PYTHON, 'python3', '/usr/bin/python3']) {
    if (!python) continue;
    try {
      const { stdout } = await run(python, [
        '-c',
        'import PIL, numpy; print(PIL.__version__, numpy.__version__)',
      ]);
      if (/^9\.4\.\d+ 1\.24\./.test(stdout.trim())) return python;
    } catch {
      // Not this one.
    }
  }
  return undefined;
};

/** The original's own work on the same images, bare, in one Python process (bench/original.py). */
const original = async (python: string, names: string[]) => {
  const script = path.join(import.meta.dirname, 'original.py');
  const files = names.map((n) => path.join(FIXTURE_IMAGES, n));
  const { stdout } = await run(python, [script, '20', '3', ...files]);
  return JSON.parse(stdout) as { medianMs: number; shapes: number[][] };
};

export interface Designs {
  before: { apiUrl: string };
  after: { apiUrl: string };
}

/** A POST held ready, as a client would: the figure is the service's time. */
const prepared = async (files: { name: string; bytes: Buffer }[]) => {
  const form = new FormData();
  for (const { name, bytes } of files)
    form.append('image', new Blob([new Uint8Array(bytes)]), name);
  const request = new Request('http://encoder.invalid/', { method: 'POST', body: form });
  const body = Buffer.from(await request.arrayBuffer());
  const headers = { 'content-type': request.headers.get('content-type') ?? '' };
  return (apiUrl: string) => async () => {
    const res = await fetch(`${apiUrl}/shape`, { method: 'POST', body, headers });
    if (res.status !== 200) throw new Error(`${apiUrl}: ${res.status} ${await res.text()}`);
    return res.json();
  };
};

export const benchReferences = async ({ before, after }: Designs) => {
  const workloads = [
    {
      what: '10-image multipart POST /shape (small images)',
      files: BATCH.map((name) => ({ name, bytes: fixtureImage(name) })),
    },
    {
      what: 'one 12 MP JPEG (629 kB) POST /shape',
      files: [{ name: 'rgb_4000x3000.jpg', bytes: fixtureImage('rgb_4000x3000.jpg') }],
    },
  ];
  const python = await findPython();
  console.log('\n## References, not bytes: sync round trip, before (inline) and after, same run');
  console.log(
    `| workload | inline design (baseline) | references | ratio | ${python ? 'original, bare in Python | references / original |' : ''}`,
  );
  console.log(`|---|---|---|---|${python ? '---|---|' : ''}`);
  const ratios: number[] = [];
  for (const { what, files } of workloads) {
    const post = await prepared(files);
    const [b, a] = [post(before.apiUrl), post(after.apiUrl)];
    if (!isDeepStrictEqual(await b(), await a())) throw new Error(`${what}: answers differ`);
    const [inline, references] = await measurePair(b, a, { minRuns: 30, minMs: 4000 });
    const ratio = references.medianMs / inline.medianMs;
    ratios.push(ratio);
    let vsOriginal = '';
    if (python) {
      const bare = await original(
        python,
        files.map((f) => f.name),
      );
      if (!isDeepStrictEqual(bare.shapes, await a()))
        throw new Error(`${what}: the original disagrees`);
      vsOriginal = ` ${fmt(bare.medianMs, 1)} ms | ${fmt(references.medianMs / bare.medianMs, 2)}× |`;
    }
    console.log(
      `| ${what} | ${fmt(inline.medianMs, 1)} ms | ${fmt(references.medianMs, 1)} ms | ${fmt(ratio, 2)}× |${vsOriginal}`,
    );
  }
  if (!python)
    console.log('(No Python with Pillow 9.4 / NumPy 1.24: the original is not measured.)');
  return { batchRatio: ratios[0], bigJpegRatio: ratios[1] };
};
