/**
 * The designs side by side, in the same run: the sync round trip of the 10-image batch and of
 * one 12 MP JPEG through each design's local runtime — the inline design (images as base64
 * in the workflow), references with one invocation per image, and this one (chunks) —, each
 * served by its own process, requests alternated so drift hits them alike; and the
 * original's own work on the same images, bare in Python.
 *
 * Beside them, the floor of this design: the same request with every image's bytes replaced
 * by as many bytes of text, alternated with the others. It takes every hop the cloud takes
 * (HTTP in, the PUT, StartSyncExecution, the invocation, the ranged GET of the same number of
 * bytes, the delete, HTTP out) and no analysis but the refusal at the first bytes, which is
 * measured alone in the same run: what the hops cost, whatever the analysis becomes.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { isDeepStrictEqual, promisify } from 'node:util';
import { analyzeImage } from '../lambdas/analyze/analysis.ts';
import { FIXTURE_IMAGES, fixtureImage } from '../test/support/fixtures.ts';
import { BATCH, preparedPost } from './e2e.ts';
import { fmt, measureAll } from './measure.ts';

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

export interface Design {
  label: string;
  apiUrl: string;
}

/** Bytes no reader accepts, as many as the image had: the analysis refuses them at once
 * (UNSUPPORTED_FORMAT) and every hop carries the same bytes as for the image. */
const notAnImage = ({ name, bytes }: { name: string; bytes: Buffer }) => ({
  name,
  bytes: Buffer.alloc(bytes.length, 'This is not an image. '),
});

/** `designs`: the earlier ones (baselines) first, this one last. */
export const benchDesigns = async (designs: Design[]) => {
  const current = designs.at(-1);
  if (!current) throw new Error('no design to measure');
  const earlier = designs.slice(0, -1);
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
  console.log('\n## Sync round trip through each design, same run');
  const columns = [
    ...designs.map((d) => d.label),
    ...earlier.map((d) => `${current.label} / ${d.label}`),
    `floor: ${current.label}, no image (of it: the refusal alone)`,
    `floor / ${current.label}`,
    ...(python
      ? ['original, bare in Python', `${current.label} / original`, 'floor / original']
      : []),
  ];
  console.log(`| workload | ${columns.join(' | ')} |`);
  console.log(`|---|${columns.map(() => '---').join('|')}|`);
  const figures: Record<string, number> = {};
  for (const { what, files } of workloads) {
    const post = await preparedPost(files);
    const calls = designs.map((d) => post(d.apiUrl));
    const answers: unknown[] = [];
    for (const call of calls) answers.push(await call());
    if (!answers.every((a) => isDeepStrictEqual(a, answers[0])))
      throw new Error(`${what}: the designs' answers differ`);
    const junk = files.map(notAnImage);
    const floor = (await preparedPost(junk))(current.apiUrl);
    const refused = junk.map(() => []);
    if (!isDeepStrictEqual(await floor(), refused))
      throw new Error(`${what}: the floor's bytes were taken for images`);
    const refusal = () => Promise.all(junk.map(({ bytes }) => analyzeImage(bytes)));
    const alternated = [floor, refusal, ...calls];
    const [floorSample, refusalSample, ...samples] = await measureAll(alternated, {
      minRuns: 30,
      minMs: 4000,
    });
    const floorMs = floorSample?.medianMs ?? Number.NaN;
    const mine = samples.at(-1)?.medianMs ?? Number.NaN;
    const cells = [
      ...samples.map((s) => `${fmt(s.medianMs, 1)} ms`),
      ...samples.slice(0, -1).map((s) => `${fmt(mine / s.medianMs, 2)}×`),
      `${fmt(floorMs, 1)} ms (${fmt(refusalSample?.medianMs ?? Number.NaN, 1)} ms)`,
      `${fmt(floorMs / mine, 2)}×`,
    ];
    figures[`${what} floor / ${current.label}`] = floorMs / mine;
    if (python) {
      const bare = await original(
        python,
        files.map((f) => f.name),
      );
      if (!isDeepStrictEqual(bare.shapes, answers[0]))
        throw new Error(`${what}: the original disagrees`);
      cells.push(
        `${fmt(bare.medianMs, 1)} ms`,
        `${fmt(mine / bare.medianMs, 2)}×`,
        `${fmt(floorMs / bare.medianMs, 2)}×`,
      );
      figures[`${what} / original`] = mine / bare.medianMs;
      figures[`${what} floor / original`] = floorMs / bare.medianMs;
    }
    console.log(`| ${what} | ${cells.join(' | ')} |`);
  }
  if (!python)
    console.log('(No Python with Pillow 9.4 / NumPy 1.24: the original is not measured.)');
  return figures;
};
