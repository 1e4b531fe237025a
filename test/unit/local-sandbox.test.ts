/**
 * The local Lambda's sandboxes (local/sandbox.ts), with the real analysis function in real
 * worker threads: a cold start once, then reuse; never more sandboxes than the concurrency;
 * a sandbox that timed out is thrown away, as Lambda resets the environment.
 */
import net from 'node:net';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { MapItem } from '../../lambdas/shared/workflow.ts';
import { LOCAL_S3_CREDENTIALS } from '../../local/s3.ts';
import { SandboxPool } from '../../local/sandbox.ts';

/** A store that takes connections and never answers. */
const sockets: net.Socket[] = [];
const silent = net.createServer((socket) => sockets.push(socket));
await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
const endpoint = `http://127.0.0.1:${(silent.address() as net.AddressInfo).port}`;
afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => silent.close(resolve));
});

const pools: SandboxPool[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.close()));
});

const lines: Record<string, unknown>[] = [];
const analyzePool = (concurrency: number) => {
  const pool = new SandboxPool({
    spec: {
      function: 'image-analyze',
      s3: { endpoint, region: 'us-east-1', credentials: LOCAL_S3_CREDENTIALS },
    },
    concurrency,
    memoryMb: 512,
    region: 'us-east-1',
    environment: { POWERTOOLS_LOG_LEVEL: 'INFO' },
    onLog: (line) => {
      if (line.startsWith('{')) lines.push(JSON.parse(line));
    },
  });
  pools.push(pool);
  return pool;
};

const item = (size: number): MapItem => ({
  index: 0,
  name: 'image',
  filename: 'a.png',
  contentType: 'image/png',
  size,
  object: { bucket: 'staging', key: 'staging/a' },
  offset: 0,
  deadline: null,
});

let requests = 0;
const contextFor = () => ({
  functionName: 'image-analyze',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:image-analyze',
  memoryLimitInMB: '512',
  awsRequestId: `request-${++requests}`,
  logGroupName: '/aws/lambda/image-analyze',
  logStreamName: 'local',
});

describe('local Lambda sandboxes', () => {
  it('starts a sandbox cold once and reuses it for the invocations after', async () => {
    const pool = analyzePool(4);
    lines.length = 0;
    // An empty image needs no read from the store: the analysis answers EMPTY_IMAGE at once.
    for (let i = 0; i < 3; i++) {
      const result = JSON.parse(await pool.invoke(JSON.stringify(item(0)), contextFor(), 10_000));
      expect(result.error.code).toBe('EMPTY_IMAGE');
      expect(pool.size).toBe(1);
    }
    const analyzed = lines.filter((l) => l.message === 'chunk analyzed');
    expect(analyzed.map((l) => l.cold_start)).toEqual([true, false, false]);
  }, 60_000);

  it('delivers every log line of an invocation before its answer', async () => {
    const pool = analyzePool(2);
    for (let i = 0; i < 20; i++) {
      const context = contextFor();
      await pool.invoke(JSON.stringify(item(0)), context, 10_000);
      const own = lines.filter((l) => l.function_request_id === context.awsRequestId);
      expect(own.map((l) => l.message)).toContain('chunk analyzed');
    }
  }, 60_000);

  it('runs no more sandboxes than its concurrency, the others waiting for one', async () => {
    const pool = analyzePool(2);
    let most = 0;
    const watch = setInterval(() => {
      most = Math.max(most, pool.size);
    }, 5);
    // Each read waits on a store that never answers until middy gives up just before the
    // invocation's 1.5 s timeout, as it does in Lambda: the function's own TimeoutError.
    const outcomes = await Promise.allSettled(
      [1, 2, 3].map(() => pool.invoke(JSON.stringify(item(10)), contextFor(), 1_500)),
    );
    clearInterval(watch);
    for (const outcome of outcomes) {
      expect(outcome).toMatchObject({
        status: 'rejected',
        reason: { name: 'TimeoutError' },
      });
    }
    expect(most).toBe(2);
    expect(pool.size).toBe(2);
  }, 60_000);
});
