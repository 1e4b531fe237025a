/**
 * A 10,000-image batch through the whole large-batch path on the local runtime — POST /batches,
 * every image uploaded by its presigned POST over HTTP, start, polling, every results page —
 * against the same images through the inline-Map design (asynchronous POST /shape requests of
 * 200 images, the most one takes, four in flight, each polled), measured in the same run:
 * images per second, the process's peak RSS during each, and the cost per 1,000 images from
 * what the runtime counted × bench/prices.ts.
 *
 * Billing as documented: a Distributed Map's child workflow is one state transition of the
 * parent (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-transitions.html) plus,
 * being Express, a request and its duration; a presigned POST is a PUT-class request, LIST too.
 * Lambda's application log lines are left out of both columns (alike per image); its platform
 * lines are counted. Timings are this machine's, under whatever else runs on it.
 */

import { mapLimit, mediaTypeOf } from '../cli/transports/form.ts';
import type { Usage } from '../local/meter.ts';
import { type Runtime, startRuntime } from '../local/runtime.ts';
import { fixtureExpected, fixtureImage } from '../test/support/fixtures.ts';
import {
  invocationsOf,
  type Lines,
  lambdaCost,
  logsCost,
  printCostTable,
  workflowCost,
} from './cost.ts';
import { BATCH, untilSucceeded } from './e2e.ts';
import { fmt } from './measure.ts';
import { LAMBDA_PLATFORM_LOG_BYTES, PRICES, PRICES_DATE } from './prices.ts';

const FILES = BATCH.map((name) => ({ name, bytes: fixtureImage(name), type: mediaTypeOf(name) }));
const SHAPES = new Map(fixtureExpected().map(([name, e]) => [name, e.shape]));
const fileAt = (i: number) => FILES[i % FILES.length] as (typeof FILES)[number];

const json = async (res: Response) => {
  if (res.status >= 300) throw new Error(`${res.url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as Record<string, unknown>;
};

/** The process's peak resident set while `fn` runs (sampled every 50 ms). */
const withPeakRss = async <T>(fn: () => Promise<T>) => {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 50);
  const started = performance.now();
  try {
    const result = await fn();
    return { result, ms: performance.now() - started, peakRss: peak };
  } finally {
    clearInterval(timer);
  }
};

interface Form {
  index: number;
  url: string;
  fields: Record<string, string>;
}

const largeBatch = async (api: string, images: number) => {
  const declared = [...Array(images).keys()].map((i) => ({
    filename: fileAt(i).name,
    contentType: fileAt(i).type,
    bytes: fileAt(i).bytes.length,
  }));
  const created = await json(
    await fetch(`${api}/batches`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ view: 'shape', images: declared }),
    }),
  );
  const id = created.batchId as string;
  const forms = [...(created.uploads as Form[])];
  for (let next = created.nextUploads as string | null; next; ) {
    const page = await json(await fetch(`${api}${next}`));
    forms.push(...(page.uploads as Form[]));
    next = page.nextCursor === null ? null : `/batches/${id}/uploads?cursor=${page.nextCursor}`;
  }
  const phases: Record<string, number> = {};
  let t = performance.now();
  const phase = (name: string) => {
    phases[name] = performance.now() - t;
    t = performance.now();
  };
  phase('declare');
  await mapLimit(forms, 32, async (form) => {
    const body = new FormData();
    for (const [k, v] of Object.entries(form.fields)) body.append(k, v);
    const file = fileAt(form.index);
    body.append('file', new Blob([new Uint8Array(file.bytes)], { type: file.type }));
    const res = await fetch(form.url, { method: 'POST', body });
    if (res.status !== 204)
      throw new Error(`upload ${form.index}: ${res.status} ${await res.text()}`);
  });
  phase('upload');
  await json(await fetch(`${api}/batches/${id}/start`, { method: 'POST' }));
  phase('start');
  await untilSucceeded(`${api}/batches/${id}`, 250, 'batch');
  phase('run');
  const shapes: unknown[] = [];
  for (let cursor: unknown = '0'; cursor !== null; ) {
    const page = await json(await fetch(`${api}/batches/${id}/results?cursor=${cursor}`));
    shapes.push(...(page.items as unknown[]));
    cursor = page.nextCursor;
  }
  phase('results');
  return { id, shapes, phases };
};

const inlineDesign = async (api: string, images: number) => {
  const perRequest = 200;
  const requests = [...Array(Math.ceil(images / perRequest)).keys()];
  // Each request's shapes, in the requests' order.
  const shapes = await mapLimit(requests, 4, async (r) => {
    const form = new FormData();
    for (let i = r * perRequest; i < Math.min(images, (r + 1) * perRequest); i++)
      form.append(
        'image',
        new Blob([new Uint8Array(fileAt(i).bytes)], { type: fileAt(i).type }),
        fileAt(i).name,
      );
    const res = await fetch(`${api}/shape`, {
      method: 'POST',
      body: form,
      headers: { Prefer: 'respond-async' },
    });
    const location = res.headers.get('location') ?? '';
    await json(res);
    return (await untilSucceeded(`${api}${location}`, 250, 'async run')).result as unknown[];
  });
  return shapes.flat();
};

const check = (shapes: unknown[], images: number, what: string) => {
  if (shapes.length !== images)
    throw new Error(`${what}: ${shapes.length} results for ${images} images`);
  shapes.forEach((shape, i) => {
    if (JSON.stringify(shape) !== JSON.stringify(SHAPES.get(fileAt(i).name)))
      throw new Error(`${what}: image ${i} answered ${JSON.stringify(shape)}`);
  });
};

const costLines = (u: Usage, extra: { uploads: number }): Lines => ({
  'API Gateway': u.apiRequests * PRICES.apiGatewayRestPerRequest,
  Lambda: lambdaCost(u),
  'Step Functions': workflowCost(u),
  'S3 requests':
    (extra.uploads + u.s3.put + u.s3.other) * PRICES.s3PutPerRequest +
    u.s3.get * PRICES.s3GetPerRequest,
  'CloudWatch Logs': logsCost(u.workflowLogBytes + invocationsOf(u) * LAMBDA_PLATFORM_LOG_BYTES),
});

/** The Map Run's Express children, which the runtime's usage (parents only) leaves out: one
 * parent transition, one Express request and its billed duration each. */
const withChildren = (runtime: Runtime, batchId: string, u: Usage): Usage => {
  const total = structuredClone(u);
  for (const mapRun of runtime.sfn.mapRuns.values()) {
    if (!mapRun.executionArn.endsWith(`:${batchId}`)) continue;
    for (const child of mapRun.children.values()) {
      const ms = (child.stopDate ?? new Date()).getTime() - child.startDate.getTime();
      total.standardTransitions += 1;
      total.expressRequests += 1;
      total.expressBilledMs += Math.ceil(Math.max(ms, 1) / 100) * 100;
    }
  }
  return total;
};

/** Its own runtime, with the Lambdas' EMF metrics off (10,000 images would print 10,000 lines)
 * and nothing else in flight. */
export const benchLargeBatch = async (
  images = Number(process.env.LARGE_BATCH_IMAGES ?? 10_000),
) => {
  const metricsSetting = process.env.POWERTOOLS_METRICS_DISABLED;
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  const runtime = await startRuntime({ port: 0, sfnPort: 0, s3Port: 0 });
  try {
    return await compare(runtime, images);
  } finally {
    await runtime.close();
    if (metricsSetting === undefined) delete process.env.POWERTOOLS_METRICS_DISABLED;
    else process.env.POWERTOOLS_METRICS_DISABLED = metricsSetting;
  }
};

const compare = async (runtime: Runtime, images: number) => {
  const api = runtime.apiUrl;
  runtime.resetUsage();
  const inline = await withPeakRss(() => inlineDesign(api, images));
  check(inline.result, images, 'inline design');
  const inlineUsage = runtime.usage();

  runtime.resetUsage();
  const large = await withPeakRss(() => largeBatch(api, images));
  check(large.result.shapes, images, 'large batch');
  const largeUsage = withChildren(runtime, large.result.id, runtime.usage());

  const mb = (n: number) => `${fmt(n / 1024 ** 2, 0)} MB`;
  const rate = (ms: number) => (images * 1000) / ms;
  console.log(`\n## A ${images.toLocaleString('en-US')}-image batch, local runtime`);
  console.log('| design | images/s | ratio | peak RSS (whole local stack) |');
  console.log('|---|---|---|---|');
  console.log(
    `| inline Map, async POST /shape × ${Math.ceil(images / 200)} (baseline) | ${fmt(rate(inline.ms), 0)} | 1.0× | ${mb(inline.peakRss)} |`,
  );
  console.log(
    `| /batches: presigned POSTs, Distributed Map | ${fmt(rate(large.ms), 0)} | ${fmt(inline.ms / large.ms, 2)}× | ${mb(large.peakRss)} |`,
  );

  const phases = Object.entries(large.result.phases)
    .map(([name, ms]) => `${name} ${fmt(ms / 1000, 1)} s`)
    .join(', ');
  console.log(`\n/batches, by phase: ${phases}.`);

  const columns: [string, Lines][] = [
    ['inline Map (baseline)', costLines(inlineUsage, { uploads: 0 })],
    ['/batches', costLines(largeUsage, { uploads: images })],
  ];
  const per1000 = (v: number) => `$${fmt((v * 1000) / images, 5)}`;
  console.log(`\nCost per 1,000 images (AWS list prices of ${PRICES_DATE}, bench/prices.ts):`);
  printCostTable(columns, per1000, 2);
  return { ratio: inline.ms / large.ms };
};
