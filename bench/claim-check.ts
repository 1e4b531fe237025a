/**
 * The claim-check's cost: the round trip of a 3 × 12 MP batch (1.9 MB) staged in S3, against
 * the same batch carried inline — which Step Functions would refuse (256 KiB), so the inline
 * figure comes from a runtime with that one limit lifted. Each mode runs in its own process:
 * the handlers read their configuration once.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startRuntime } from '../local/runtime.ts';
import { fixtureImage } from '../test/support/fixtures.ts';
import { fmt, measure, type Sample } from './measure.ts';

const run = promisify(execFile);

const child = async (mode: 'inline' | 'staged'): Promise<Sample> => {
  const { stdout } = await run(process.execPath, [import.meta.filename, mode], {
    env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'SILENT' },
  });
  return JSON.parse(stdout) as Sample;
};

export const benchClaimCheck = async () => {
  const staged = await child('staged');
  const inline = await child('inline');
  console.log('\n## Claim-check: 3 × 12 MP JPEG (1.9 MB) POST /shape, local runtime');
  console.log('| mode | median round trip |');
  console.log('|---|---|');
  console.log(`| inline, 256 KiB limit lifted (baseline) | ${fmt(inline.medianMs, 1)} ms |`);
  console.log(`| staged in S3 (the real path) | ${fmt(staged.medianMs, 1)} ms |`);
  console.log(`| ratio staged / inline | ${fmt(staged.medianMs / inline.medianMs, 2)}× |`);
  return { ratio: staged.medianMs / inline.medianMs };
};

const measureMode = async (mode: string) => {
  const runtime = await startRuntime({
    port: 0,
    sfnPort: 0,
    s3Port: 0,
    liftPayloadLimit: mode === 'inline',
  });
  try {
    const form = new FormData();
    const big = fixtureImage('rgb_4000x3000.jpg');
    for (let i = 0; i < 3; i++) form.append('image', new Blob([new Uint8Array(big)]), `${i}.jpg`);
    const request = new Request(`${runtime.apiUrl}/shape`, { method: 'POST', body: form });
    const body = Buffer.from(await request.arrayBuffer());
    const headers = { 'content-type': request.headers.get('content-type') ?? '' };
    const post = async () => {
      const res = await fetch(request.url, { method: 'POST', body, headers });
      const answer = await res.text();
      if (answer !== '[[3000,4000,3],[3000,4000,3],[3000,4000,3]]') throw new Error(answer);
      const arn = res.headers.get('x-execution-arn') ?? '';
      const input = runtime.sfn.executions.get(arn)?.input ?? '';
      if (input.includes('"s3"') !== (mode === 'staged')) throw new Error(`not ${mode}`);
    };
    return await measure(post, { minRuns: 20, minMs: 3000 });
  } finally {
    await runtime.close();
  }
};

const mode = process.argv[2];
if (mode === 'inline' || mode === 'staged') {
  process.stdout.write(JSON.stringify(await measureMode(mode)));
}
