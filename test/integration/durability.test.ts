/**
 * Durable local state: executions, their histories and the staged objects live in the
 * runtime's state folder and outlive it. A client polling an async run gets its answer however
 * many sync requests came in between, after a restart too; a run a crash (`kill -9`) cut short
 * ends FAILED at the next start, saying why, and what it staged is removed.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import { afterEach, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../infra/functions.ts';
import { createS3Client, createSfnClient } from '../../lambdas/shared/clients.ts';
import { REGION, type Runtime, STAGING_BUCKET, startRuntime } from '../../local/runtime.ts';
import { LOCAL_S3_CREDENTIALS } from '../../local/s3.ts';
import { bilevelPng } from '../support/bomb.ts';
import { fixtureImage } from '../support/fixtures.ts';
import { postImages } from '../support/http.ts';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const stateDir = async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'image-batch-durability-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
};

const local = { region: REGION, credentials: LOCAL_S3_CREDENTIALS };

/** `npm start`'s own entry point, on free ports, keeping its state in `dir`. */
const startMain = async (dir: string) => {
  const child = spawn(process.execPath, ['local/main.ts'], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, PORT: '0', SFN_PORT: '0', S3_PORT: '0', LOCAL_STATE_DIR: dir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  cleanups.push(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  });
  const banner = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('Ctrl-C stops.')) resolve(out);
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.once('exit', (code) => reject(new Error(`exited ${code} before its banner:\n${out}`)));
  });
  const url = (label: string) => {
    const found = new RegExp(`${label}\\s+(http://\\S+)`).exec(banner)?.[1];
    if (!found) throw new Error(`no ${label} in:\n${banner}`);
    return found;
  };
  return {
    child,
    api: url('Image batch API'),
    sfn: createSfnClient({ ...local, endpoint: url('Step Functions \\(local\\)') }),
    s3: createS3Client({ ...local, endpoint: url('S3 \\(local\\)') }),
  };
};

const stagedKeys = async (s3: ReturnType<typeof createS3Client>) =>
  (await s3.send(new ListObjectsV2Command({ Bucket: STAGING_BUCKET }))).Contents?.map(
    (o) => o.Key,
  ) ?? [];

describe('durable local state', () => {
  it('ends a run cut short by kill -9 as FAILED at the next start, and removes what it staged', async () => {
    const dir = await stateDir();
    const first = await startMain(dir);
    // Twenty 179-megapixel one-bit PNGs: a few kB to send, seconds of decoding, so the run is
    // still going when the process dies.
    const bomb = bilevelPng(13_370, 13_370);
    const started = await postImages(
      `${first.api}/shape`,
      Array.from({ length: 20 }, (_, i) => ({ name: `${i}.png`, bytes: bomb, type: 'image/png' })),
      {},
      { Prefer: 'respond-async' },
    );
    expect(started.status).toBe(202);
    const { executionArn, location } = started.body as { executionArn: string; location: string };
    expect(await stagedKeys(first.s3)).toHaveLength(1);

    const killed = once(first.child, 'exit');
    first.child.kill('SIGKILL');
    await killed;

    const second = await startMain(dir);
    const described = await second.sfn.send(new DescribeExecutionCommand({ executionArn }));
    expect(described.status).toBe('FAILED');
    expect(described.error).toBe('States.Runtime');
    expect(described.cause).toMatch(/local runtime stopped \(crash or kill\)/);
    expect(await stagedKeys(second.s3)).toEqual([]);
    // The API's own poll says the same.
    const polled = await fetch(new URL(location, second.api));
    expect(polled.status).toBe(200);
    expect(await polled.json()).toMatchObject({ status: 'FAILED' });
  }, 120_000);

  it('keeps 50 async runs pollable through 2,000 sync requests and a restart', async () => {
    const dir = await stateDir();
    const image = fixtureImage('palette_150x100.png');
    let runtime: Runtime = await startRuntime({ port: 0, sfnPort: 0, s3Port: 0, stateDir: dir });
    cleanups.push(() => runtime.close());
    const post = (headers: Record<string, string> = {}) =>
      fetch(`${runtime.apiUrl}/shape`, {
        method: 'POST',
        headers: { 'Content-Type': 'image/png', ...headers },
        body: new Uint8Array(image),
      });

    // One async run every 40 sync requests, 16 requests in flight.
    const locations: string[] = [];
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < 2_000; i = next++) {
        if (i % 40 === 0) {
          const res = await post({ Prefer: 'respond-async' });
          expect(res.status).toBe(202);
          locations.push(res.headers.get('location') ?? '');
          await res.arrayBuffer();
        }
        const res = await post();
        expect(res.status).toBe(200);
        expect(await res.json()).toEqual([100, 150]);
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    expect(locations).toHaveLength(50);
    // The Express runs were many more than the runtime keeps in memory.
    expect(runtime.sfn.all().filter((e) => e.type === 'EXPRESS').length).toBeLessThanOrEqual(1000);

    const poll = async () =>
      Promise.all(
        locations.map(async (location) => {
          for (;;) {
            const res = await fetch(new URL(location, runtime.apiUrl));
            expect(res.status).toBe(200);
            const body = (await res.json()) as { status: string; result?: unknown };
            if (body.status !== 'RUNNING') return body;
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
        }),
      );
    for (const body of await poll())
      expect(body).toMatchObject({ status: 'SUCCEEDED', result: [100, 150] });

    await runtime.close();
    runtime = await startRuntime({ port: 0, sfnPort: 0, s3Port: 0, stateDir: dir });
    for (const body of await poll())
      expect(body).toMatchObject({ status: 'SUCCEEDED', result: [100, 150] });
    // Nothing a finished run staged is left behind.
    expect(await stagedKeys(createS3Client({ ...local, endpoint: runtime.s3Url }))).toEqual([]);
  }, 300_000);
});
