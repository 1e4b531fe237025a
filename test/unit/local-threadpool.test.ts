/**
 * The local runtime's process gets four libuv pool threads per sandbox it may start, as each
 * Lambda sandbox has four in AWS (local/threadpool.ts), before anything uses the pool: checked
 * in a fresh process by occupying four threads with reads of named pipes nobody writes yet,
 * then asking the pool for one more call.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { FUNCTION_SETTINGS } from '../../infra/settings.ts';
import { DEFAULT_INGEST_CONCURRENCY } from '../../local/threadpool.ts';

const run = promisify(execFile);
const dir = mkdtempSync(path.join(os.tmpdir(), 'threadpool-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const runtimeModule = path.resolve(import.meta.dirname, '../../local/runtime.ts');

/** In a new process: imports the runtime, blocks four pool threads on pipes, and reports
 * whether a fifth call still ran, and the size the process was given. */
const probe = (env: Record<string, string> = {}) => {
  const script = `
    import { execFileSync } from 'node:child_process';
    import fs from 'node:fs';
    await import(${JSON.stringify(runtimeModule)});
    const pipes = [0, 1, 2, 3].map((i) => ${JSON.stringify(dir)} + '/' + process.pid + '-' + i);
    for (const pipe of pipes) execFileSync('mkfifo', [pipe]);
    const blocked = pipes.map((pipe) => fs.promises.open(pipe, 'r'));
    const fifth = await Promise.race([
      fs.promises.stat('/').then(() => 'ran'),
      new Promise((resolve) => setTimeout(() => resolve('queued'), 2000)),
    ]);
    for (const pipe of pipes) fs.closeSync(fs.openSync(pipe, 'w'));
    await Promise.all(blocked.map(async (handle) => (await handle).close()));
    console.log(JSON.stringify({ fifth, size: process.env.UV_THREADPOOL_SIZE }));
    process.exit(0);
  `;
  return run(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, UV_THREADPOOL_SIZE: '', ...env },
  }).then(({ stdout }) => JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}'));
};

describe.skipIf(process.platform === 'win32')('local runtime: the libuv thread pool', () => {
  it('gives the process four threads per sandbox, so a fifth call runs beside four busy ones', async () => {
    const sandboxes = DEFAULT_INGEST_CONCURRENCY + FUNCTION_SETTINGS.analyze.reservedConcurrency;
    expect(await probe()).toEqual({ fifth: 'ran', size: String(4 * (sandboxes + 1)) });
  });

  it('keeps a size the user set, four here, so the fifth call waits', async () => {
    expect(await probe({ UV_THREADPOOL_SIZE: '4' })).toEqual({ fifth: 'queued', size: '4' });
  });
});
