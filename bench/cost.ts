/**
 * Cost per 1,000 images: what the local runtime counted during real runs (API requests,
 * Lambda invocations and duration at the configured memory — the ingest billed while it
 * waits for a sync workflow —, Express requests and billed duration, Standard transitions,
 * S3 requests, CloudWatch Logs bytes of the workflows at level ALL with data and of the
 * Lambdas) × the list prices of bench/prices.ts. Four designs on the same images:
 *
 * - chunks (this design: one staged object per request, one invocation and one GET per
 *   chunk of images) and references with one invocation and one GET per image (the commit
 *   before it), each metered by its own runtime;
 * - inline (images as base64 in the workflow): its workflow log bytes, Lambda log bytes,
 *   transitions and staged images read from its own runs; Lambda and Express durations
 *   borrowed from the per-image run (the old code has no meter; its shape is the same);
 * - the original (one 128 MB x86 Lambda per request, from its SAM template): API requests and
 *   one invocation each; its compute taken as the same GB-seconds as our analysis (a CPU-bound
 *   function's GB-s do not depend on its memory size), a lower bound, since it decodes every
 *   image in full where we validate at 1/8 scale.
 *
 * Durations are this machine's, under whatever else runs on it.
 */
import type { Usage } from '../local/meter.ts';
import { fixtureImage } from '../test/support/fixtures.ts';
import type { Served } from './baseline.ts';
import { BATCH, untilSucceeded } from './e2e.ts';
import { fmt } from './measure.ts';
import { LAMBDA_PLATFORM_LOG_BYTES, PRICES, PRICES_DATE } from './prices.ts';

interface Reported {
  executions: number;
  workflowLogBytes: number;
  invocations: number;
  standardTransitions: number;
  stagedImages: number;
  lambdaLogBytes: number;
  metered: Usage | null;
}

/** Dollars by component (Lambda, Step Functions, S3 requests, …). */
export type Lines = Record<string, number>;
const GB = 1024 ** 3;

const post = async (apiUrl: string, count: number, async: boolean) => {
  const form = new FormData();
  for (let i = 0; i < count; i++) {
    const name = BATCH[i % BATCH.length] as string;
    form.append('image', new Blob([new Uint8Array(fixtureImage(name))]), name);
  }
  const res = await fetch(`${apiUrl}/shape`, {
    method: 'POST',
    body: form,
    headers: async ? { Prefer: 'respond-async' } : {},
  });
  if (res.status === 200) return;
  if (res.status !== 202) throw new Error(`${res.status} ${await res.text()}`);
  await untilSucceeded(`${apiUrl}${res.headers.get('location') ?? ''}`, 50, 'async run');
};

export const logsCost = (bytes: number) => (bytes / GB) * PRICES.logsPerGb;

export const lambdaCost = (u: Usage) =>
  Object.values(u.lambda).reduce(
    (sum, f) =>
      sum +
      f.invocations * PRICES.lambdaPerRequest +
      (f.memoryMb / 1024) * (f.durationMs / 1000) * PRICES.lambdaArmPerGbSecond,
    0,
  );

export const invocationsOf = (u: Usage) =>
  Object.values(u.lambda).reduce((sum, f) => sum + f.invocations, 0);

export const workflowCost = (u: Usage) =>
  u.expressRequests * PRICES.expressPerRequest +
  (u.expressBilledMs / 1000) * (64 / 1024) * PRICES.expressPerGbSecond +
  u.standardTransitions * PRICES.standardPerTransition;

/** The references design, as metered. */
const referencesCost = (r: Reported, u: Usage): Lines => ({
  'API Gateway': u.apiRequests * PRICES.apiGatewayRestPerRequest,
  Lambda: lambdaCost(u),
  'Step Functions': workflowCost(u),
  'S3 requests': u.s3.put * PRICES.s3PutPerRequest + u.s3.get * PRICES.s3GetPerRequest,
  'CloudWatch Logs': logsCost(
    u.workflowLogBytes + r.lambdaLogBytes + invocationsOf(u) * LAMBDA_PLATFORM_LOG_BYTES,
  ),
});

const inlineCost = (r: Reported, ref: Usage): Lines => ({
  'API Gateway': ref.apiRequests * PRICES.apiGatewayRestPerRequest,
  Lambda: lambdaCost(ref),
  'Step Functions': workflowCost({ ...ref, standardTransitions: r.standardTransitions }),
  'S3 requests': r.stagedImages * (PRICES.s3PutPerRequest + PRICES.s3GetPerRequest),
  'CloudWatch Logs': logsCost(
    r.workflowLogBytes + r.lambdaLogBytes + r.invocations * LAMBDA_PLATFORM_LOG_BYTES,
  ),
});

/** The original answered every POST synchronously: no polling requests. */
const originalCost = (ref: Usage, posts: number): Lines => {
  const analysis = ref.lambda['image-analyze'];
  const gbSeconds = analysis ? (analysis.memoryMb / 1024) * (analysis.durationMs / 1000) : 0;
  return {
    'API Gateway': posts * PRICES.apiGatewayRestPerRequest,
    Lambda: posts * PRICES.lambdaPerRequest + gbSeconds * PRICES.lambdaX86PerGbSecond,
    'Step Functions': 0,
    'S3 requests': 0,
    'CloudWatch Logs': logsCost(posts * LAMBDA_PLATFORM_LOG_BYTES),
  };
};

export const total = (lines: Lines) => Object.values(lines).reduce((a, b) => a + b, 0);
const per1000 = (lines: Lines, images: number): Lines =>
  Object.fromEntries(Object.entries(lines).map(([k, v]) => [k, (v * 1000) / images]));

export interface CostDesigns {
  inline?: Served;
  perImage?: Served;
  chunks: Served;
}

const scenario = async (
  designs: CostDesigns,
  spec: { requests: number; perRequest: number; async: boolean },
) => {
  const run = async (served: Served) => {
    await served.ask('reset');
    for (let i = 0; i < spec.requests; i++) await post(served.apiUrl, spec.perRequest, spec.async);
    return served.ask<Reported>('usage');
  };
  const { requests, perRequest } = spec;
  const chunks = await run(designs.chunks);
  const perImage = designs.perImage ? await run(designs.perImage) : undefined;
  const inline = designs.inline ? await run(designs.inline) : undefined;
  if (!chunks.metered || (perImage && !perImage.metered))
    throw new Error('a references runtime reported no usage');
  const images = requests * perRequest;
  const borrowed = perImage?.metered ?? chunks.metered;
  const columns: [string, Lines][] = [
    ['original (lower bound)', per1000(originalCost(chunks.metered, requests), images)],
    ...(inline
      ? [['inline', per1000(inlineCost(inline, borrowed), images)] as [string, Lines]]
      : []),
    ...(perImage?.metered
      ? [
          [
            'references, per image',
            per1000(referencesCost(perImage, perImage.metered), images),
          ] as [string, Lines],
        ]
      : []),
    ['references, chunks', per1000(referencesCost(chunks, chunks.metered), images)],
  ];
  return { columns, chunks, perImage, inline, images };
};

const usd = (n: number) => `$${n.toFixed(5)}`;

/** What a design's runs did, per image. */
const counted = (r: Reported, images: number) => {
  const u = r.metered;
  const kb = (n: number) => `${fmt(n / images / 1000, 2)} kB`;
  const parts = [
    `${fmt(r.invocations / images, 2)} analysis invocations`,
    ...(u
      ? [
          `S3 ${fmt(u.s3.put / images, 2)} PUT, ${fmt(u.s3.get / images, 2)} GET, ${fmt(u.s3.delete / images, 2)} DELETE`,
        ]
      : []),
    `${fmt(r.standardTransitions / images, 2)} Standard transitions`,
    `workflow logs ${kb(r.workflowLogBytes)}`,
    `Lambda logs ${kb(r.lambdaLogBytes)}`,
  ];
  return parts.join(', ');
};

/** Prints the columns as a Markdown table, a row per component of the first column and a
 * total row whose ratios are to that first column (the baseline); `money` shows one figure. */
export const printCostTable = (
  columns: [string, Lines][],
  money: (dollars: number) => string,
  ratioDigits: number,
) => {
  console.log(`| component | ${columns.map(([name]) => name).join(' | ')} |`);
  console.log(`|---|${columns.map(() => '---').join('|')}|`);
  for (const component of Object.keys(columns[0]?.[1] ?? {}))
    console.log(
      `| ${component} | ${columns.map(([, l]) => money(l[component] ?? 0)).join(' | ')} |`,
    );
  const base = total(columns[0]?.[1] ?? {});
  console.log(
    `| **total** | ${columns.map(([, l]) => `**${money(total(l))}** (${fmt(total(l) / base, ratioDigits)}×)`).join(' | ')} |`,
  );
};

export const benchCost = async (designs: CostDesigns) => {
  console.log(`\n## Cost per 1,000 images (AWS list prices of ${PRICES_DATE}, bench/prices.ts)`);
  const results: Record<string, number> = {};
  for (const [label, spec] of [
    ['sync, 10-image requests', { requests: 10, perRequest: 10, async: false }],
    ['async, 50-image requests', { requests: 2, perRequest: 50, async: true }],
  ] as const) {
    const { columns, chunks, perImage, inline, images } = await scenario(designs, spec);
    console.log(`\n### ${label} (${images} images)`);
    printCostTable(columns, usd, 1);
    const original = total(columns[0]?.[1] ?? {});
    console.log('\nCounted per image:');
    for (const [name, reported] of [
      ['chunks', chunks],
      ['per image', perImage],
      ['inline', inline],
    ] as const)
      if (reported) console.log(`- ${name}: ${counted(reported, images)}.`);
    results[label] = total(columns.at(-1)?.[1] ?? {}) / original;
  }
  return results;
};
