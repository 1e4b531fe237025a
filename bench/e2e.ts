/**
 * End to end: the median round trip of a 10-image multipart POST through the local runtime
 * (HTTP, proxy event, ingest, Step Functions JSON protocol, the ASL's Map, ten analysis
 * invocations), against the analysis alone of the same ten images measured in the same run.
 * The difference, per image, is what the serverless plumbing costs.
 */
import { isDeepStrictEqual } from 'node:util';
import { analyzeImage } from '../lambdas/analyze/analysis.ts';
import type { Runtime } from '../local/runtime.ts';
import { fixtureImage } from '../test/support/fixtures.ts';
import { fmt, measurePair } from './measure.ts';

/** Ten small images, a form a client might send. */
export const BATCH = [
  'photo_400x600.jpg',
  'gif_160x120.gif',
  'gray_300x200.jpg',
  'palette_150x100.png',
  'rgb_640x480.jpg',
  'rgba_200x100.png',
  'webp_lossy_500x375.webp',
  'gif_160x120.gif',
  'palette_150x100.png',
  'gray_300x200.jpg',
];

/**
 * A multipart POST /shape of `files`, encoded once by the platform's FormData, as a client
 * holds its request ready: the figure is the service's time, not the client's encoder. Given
 * an API's URL, the call that sends it and returns the 200's JSON.
 */
export const preparedPost = async (files: { name: string; bytes: Buffer }[]) => {
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

/** Polls a run's status URL (an async request's Location, a large batch) every `intervalMs`
 * until it has SUCCEEDED, and returns what it answered then; any status but RUNNING throws. */
export const untilSucceeded = async (url: string, intervalMs: number, what: string) => {
  for (;;) {
    const res = await fetch(url);
    if (res.status >= 300) throw new Error(`${url}: ${res.status} ${await res.text()}`);
    const poll = (await res.json()) as { status: string; result?: unknown };
    if (poll.status === 'SUCCEEDED') return poll;
    if (poll.status !== 'RUNNING') throw new Error(`${what} ${poll.status}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
};

export const benchEndToEnd = async (runtime: Runtime) => {
  const images = BATCH.map((name) => ({ name, bytes: fixtureImage(name) }));
  const post = (await preparedPost(images))(runtime.apiUrl);
  const direct = () => Promise.all(images.map(({ bytes }) => analyzeImage(bytes)));

  const viaApi = await post();
  const alone = (await direct()).map((r) => ('shape' in r ? r.shape : []));
  if (!isDeepStrictEqual(viaApi, alone)) throw new Error('the pipeline and the analysis disagree');

  const [analysis, roundTrip] = await measurePair(direct, post, { minRuns: 40, minMs: 5000 });
  const overheadPerImage = (roundTrip.medianMs - analysis.medianMs) / images.length;

  console.log(`\n## End to end: ${images.length}-image multipart POST /shape, local runtime`);
  console.log('| measure | median |');
  console.log('|---|---|');
  console.log(
    `| analysis alone, the ten images in parallel (baseline) | ${fmt(analysis.medianMs, 2)} ms |`,
  );
  console.log(`| round trip through the pipeline | ${fmt(roundTrip.medianMs, 2)} ms |`);
  console.log(
    `| ratio round trip / analysis | ${fmt(roundTrip.medianMs / analysis.medianMs, 2)}× |`,
  );
  console.log(`| workflow overhead per image | ${fmt(overheadPerImage, 2)} ms (target ≤ 1 ms) |`);
  return { overheadPerImage, ratio: roundTrip.medianMs / analysis.medianMs };
};
