/**
 * `npx node bench/first-error.ts`: what a readable stack trace costs the first error of a
 * cold Lambda. The ingest handler is bundled three ways (as infra/functions.ts does, by
 * esbuild) and each bundle is loaded in a fresh Node process that then formats an error's
 * stack, as the logger does for a 500:
 *   - minified, no source map: the floor (unreadable traces), the baseline of the ratios;
 *   - minified + source map under --enable-source-maps: the first stack pays for parsing the map;
 *   - not minified, names kept, no source map: what the stack ships (readable traces).
 * Runs alternate between the variants so machine noise spreads over all of them.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { median } from './measure.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const RUNS = Number(process.env.RUNS ?? 7);

const variants = [
  { name: 'minified, no source map', minify: true, sourcemap: false, flags: [] },
  {
    name: 'minified + map, --enable-source-maps',
    minify: true,
    sourcemap: true,
    flags: ['--enable-source-maps'],
  },
  { name: 'readable, no source map (shipped)', minify: false, sourcemap: false, flags: [] },
] as const;

// Loads the bundle like a cold start, then sends an event without its requestContext: our
// own code throws a TypeError from inside the bundle, the logger formats its stack (bundle
// frames through middy), the API answers 500. Then once more, warm.
const probe = `
const context = { functionName: 'ingest', awsRequestId: 'r', getRemainingTimeInMillis: () => 29000 };
const event = { httpMethod: 'GET', path: '/executions/x', resource: '/executions/{id}', headers: {},
  multiValueHeaders: {}, queryStringParameters: null, multiValueQueryStringParameters: null,
  pathParameters: { id: 'x' }, stageVariables: null, body: null, isBase64Encoded: false,
  requestContext: undefined };
const t0 = performance.now();
const { handler } = await import(process.argv[1]);
const t1 = performance.now();
const first = await handler(event, context);
const t2 = performance.now();
await handler(event, context);
const t3 = performance.now();
console.log(JSON.stringify({ status: first.statusCode, loadMs: t1 - t0, firstMs: t2 - t1, secondMs: t3 - t2 }));
`;

const dir = mkdtempSync(path.join(os.tmpdir(), 'first-error-'));
try {
  const bundles = await Promise.all(
    variants.map(async (v, i) => {
      const outfile = path.join(dir, `v${i}`, 'index.mjs');
      await build({
        entryPoints: [path.join(ROOT, 'lambdas/ingest/handler.ts')],
        outfile,
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: 'node24',
        mainFields: ['module', 'main'],
        minify: v.minify,
        keepNames: !v.minify,
        sourcemap: v.sourcemap,
        sourcesContent: false,
        banner: {
          js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
        },
        logLevel: 'silent',
      });
      return { ...v, outfile, bytes: statSync(outfile).size };
    }),
  );
  const env = {
    ...process.env,
    SYNC_STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:000000000000:stateMachine:S',
    ASYNC_STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:000000000000:stateMachine:A',
    STAGING_BUCKET: 'b',
    AWS_REGION: 'us-east-1',
    // The logger must format the error's stack, as it does in Lambda.
    POWERTOOLS_LOG_LEVEL: 'ERROR',
  };
  const samples = bundles.map(() => ({
    load: [] as number[],
    first: [] as number[],
    second: [] as number[],
  }));
  for (let run = 0; run < RUNS; run++) {
    bundles.forEach((b, i) => {
      const out = execFileSync(
        process.execPath,
        [...b.flags, '--input-type=module', '-e', probe, b.outfile],
        { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 24 },
      );
      const result = JSON.parse(out.trim().split('\n').at(-1) ?? '{}');
      if (result.status !== 500) throw new Error(`expected a 500, got ${out}`);
      samples[i]?.load.push(result.loadMs);
      samples[i]?.first.push(result.firstMs);
      samples[i]?.second.push(result.secondMs);
    });
  }
  const [base] = samples;
  const ratio = (x: number, of: number[] | undefined) => (x / median(of ?? [])).toFixed(2);
  console.log(
    `# First 500 of a cold ingest bundle — Node ${process.version}, ${RUNS} runs, medians`,
  );
  bundles.forEach((b, i) => {
    const s = samples[i];
    if (!s) return;
    const [load, first, second] = [median(s.load), median(s.first), median(s.second)];
    console.log(
      `${b.name.padEnd(38)} ${(b.bytes / 1024).toFixed(0).padStart(5)} KiB  ` +
        `load ${load.toFixed(0).padStart(4)} ms (${ratio(load, base?.load)}×)  ` +
        `first 500 ${first.toFixed(1).padStart(6)} ms (${ratio(first, base?.first)}×)  ` +
        `second ${second.toFixed(1).padStart(5)} ms`,
    );
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
