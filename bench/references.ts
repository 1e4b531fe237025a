/**
 * Before and after references, in the same run: the round trip of the 10-image batch and of
 * one 12 MP JPEG through the inline design (the baseline commit, images as base64 in the
 * workflow when they fit) and through this one (every image staged in S3, keys in the
 * workflow), each served by its own process, requests alternated so drift hits both alike.
 */
import { isDeepStrictEqual } from 'node:util';
import { sharedImage } from '../test/support/fixtures.ts';
import { BATCH } from './e2e.ts';
import { fmt, measurePair } from './measure.ts';

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
      files: BATCH.map((name) => ({ name, bytes: sharedImage(name) })),
    },
    {
      what: 'one 12 MP JPEG (629 kB) POST /shape',
      files: [{ name: 'rgb_4000x3000.jpg', bytes: sharedImage('rgb_4000x3000.jpg') }],
    },
  ];
  console.log('\n## References, not bytes: sync round trip, before (inline) and after, same run');
  console.log('| workload | inline design (baseline) | references | ratio |');
  console.log('|---|---|---|---|');
  const ratios: number[] = [];
  for (const { what, files } of workloads) {
    const post = await prepared(files);
    const [b, a] = [post(before.apiUrl), post(after.apiUrl)];
    if (!isDeepStrictEqual(await b(), await a())) throw new Error(`${what}: answers differ`);
    const [inline, references] = await measurePair(b, a, { minRuns: 30, minMs: 4000 });
    const ratio = references.medianMs / inline.medianMs;
    ratios.push(ratio);
    console.log(
      `| ${what} | ${fmt(inline.medianMs, 1)} ms | ${fmt(references.medianMs, 1)} ms | ${fmt(ratio, 2)}× |`,
    );
  }
  return { batchRatio: ratios[0], bigJpegRatio: ratios[1] };
};
