/**
 * Lambda sandboxes: each function runs in worker threads, one invocation at a time per
 * sandbox, so its logger belongs to the invocation it serves. Under 200 concurrent requests,
 * every line an ingest invocation writes carries that request's API request id, and its
 * "batch finished" line the execution the answer names; every "chunk analyzed" line (one per
 * analysis invocation) carries the execution the workflow names in the invocation's ClientContext.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FUNCTION_SETTINGS } from '../../infra/settings.ts';
import { createS3Client } from '../../lambdas/shared/clients.ts';
import type { ExecutionInput } from '../../lambdas/shared/workflow.ts';
import { type Runtime, startRuntime } from '../../local/runtime.ts';

type Line = Record<string, unknown> & { message?: string; service?: string };
const lines: { fn: string; line: Line }[] = [];
let runtime: Runtime;

beforeAll(async () => {
  runtime = await startRuntime({
    port: 0,
    sfnPort: 0,
    s3Port: 0,
    logLevel: 'INFO',
    onLog: (text, fn) => {
      // EMF documents and log records alike are one JSON object per line.
      try {
        lines.push({ fn, line: JSON.parse(text) as Line });
      } catch {
        lines.push({ fn, line: { text } });
      }
    },
  });
});
afterAll(() => runtime?.close());

/** A real PNG, `width` pixels wide: its shape tells which request or run it came from. */
const png = (width: number) =>
  sharp({ create: { width, height: 7, channels: 3, background: { r: 9, g: 99, b: 199 } } })
    .png()
    .toBuffer();

const logged = (fn: string, message?: string) =>
  lines
    .filter((l) => l.fn === fn && typeof l.line.message === 'string')
    .map((l) => l.line)
    .filter((l) => message === undefined || l.message === message);

describe('Lambda sandboxes', () => {
  it('gives every log line of 200 concurrent requests its own request id and execution', async () => {
    const images = await Promise.all([0, 1, 2].map((i) => png(20 + i)));
    // Cold starts first (each sandbox loads its modules once; dozens at once on a shared
    // machine can outlast API Gateway's 29 s), so the 200 requests meet warm sandboxes.
    await Promise.all(
      Array.from({ length: 30 }, async () => {
        const res = await fetch(`${runtime.apiUrl}/shape`, {
          method: 'POST',
          headers: { 'Content-Type': 'image/png' },
          body: new Uint8Array(images[0] as Buffer),
        });
        await res.arrayBuffer();
      }),
    );
    const warmUp = lines.splice(0);
    const answers = await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        const count = (i % 3) + 1;
        const form = new FormData();
        for (const bytes of images.slice(0, count)) {
          form.append('image', new Blob([new Uint8Array(bytes)], { type: 'image/png' }), 'a.png');
        }
        const res = await fetch(`${runtime.apiUrl}/shape`, { method: 'POST', body: form });
        expect(res.status).toBe(200);
        expect(await res.json()).toEqual(images.slice(0, count).map((_, k) => [7, 20 + k, 3]));
        return { count, executionArn: res.headers.get('x-execution-arn') };
      }),
    );

    const ingest = logged('image-ingest');
    // Every line of an invocation (its Lambda request id) names one API request, and only it.
    const apiIdsByInvocation = new Map<unknown, Set<unknown>>();
    for (const line of ingest) {
      expect(line.apiRequestId).toEqual(expect.any(String));
      const ids = apiIdsByInvocation.get(line.function_request_id) ?? new Set();
      ids.add(line.apiRequestId);
      apiIdsByInvocation.set(line.function_request_id, ids);
    }
    expect(apiIdsByInvocation.size).toBe(200);
    for (const ids of apiIdsByInvocation.values()) expect(ids.size).toBe(1);

    // The answer's execution is the one its request's lines name, with its image count.
    const finished = logged('image-ingest', 'batch finished');
    expect(finished).toHaveLength(200);
    for (const { count, executionArn } of answers) {
      const [line, ...others] = finished.filter((l) => l.executionArn === executionArn);
      expect(others).toEqual([]);
      expect(line?.images).toBe(count);
      const starting = ingest.filter(
        (l) => l.apiRequestId === line?.apiRequestId && l.message === 'starting batch',
      );
      expect(starting).toHaveLength(1);
      expect(starting[0]?.images).toBe(count);
      expect(executionArn).toContain(`:${starting[0]?.executionName}:`);
    }

    // Sandboxes are reused: each started cold once (Powertools' cold_start, per module
    // instance), never more of them than the function's concurrency.
    const coldStarts = (fn: string) =>
      new Set(
        [...warmUp, ...lines]
          .filter((l) => l.fn === fn && l.line.cold_start === true)
          .map((l) => l.line.function_request_id),
      ).size;
    expect(coldStarts('image-ingest')).toBeGreaterThan(0);
    expect(coldStarts('image-ingest')).toBeLessThanOrEqual(10);
    expect(coldStarts('image-analyze')).toBeGreaterThan(0);
    expect(coldStarts('image-analyze')).toBeLessThanOrEqual(
      FUNCTION_SETTINGS.analyze.reservedConcurrency,
    );
    // One analysis line per chunk (each request here is one), naming its own execution and
    // accounting for each of its images.
    const chunks = logged('image-analyze', 'chunk analyzed');
    expect(chunks).toHaveLength(answers.length);
    for (const { count, executionArn } of answers) {
      const mine = chunks.filter((l) => l.executionArn === executionArn);
      expect(mine).toHaveLength(1);
      expect(mine[0]).toMatchObject({ images: count, failed: [] });
      expect(mine[0]?.analyzed).toEqual({ png: Array.from({ length: count }, (_, k) => k) });
    }
  }, 180_000);

  it('writes the execution ARN the workflow passes in ClientContext on every "chunk analyzed" line', async () => {
    // The shipped ASL names the execution in the invocation's ClientContext (`custom.executionArn`).
    const machine = { arn: runtime.stateMachineArns.async };
    const s3 = createS3Client({ ...runtime.clientOptions.s3 });
    const executions = await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        const bytes = await png(30 + i);
        const staged = { bucket: runtime.stagingBucket, key: `staging/probe-${i}` };
        await s3.send(
          new PutObjectCommand({ Bucket: staged.bucket, Key: staged.key, Body: bytes }),
        );
        const input: ExecutionInput = {
          request: { view: 'shape', multipart: true },
          staged,
          deadline: null,
          chunks: [
            {
              Items: [
                {
                  index: 0,
                  name: 'image',
                  filename: `${i}.png`,
                  contentType: 'image/png',
                  size: bytes.length,
                  offset: 0,
                },
              ],
            },
          ],
        };
        const execution = runtime.sfn.start(machine.arn, JSON.stringify(input));
        await execution.settled;
        expect(execution.status).toBe('SUCCEEDED');
        return { bytes: bytes.length, executionArn: execution.executionArn };
      }),
    );

    const analyzed = logged('image-analyze', 'chunk analyzed');
    for (const { bytes, executionArn } of executions) {
      const mine = analyzed.filter((l) => l.executionArn === executionArn);
      expect(mine).toHaveLength(1);
      // Its own image: one PNG of its own width, hence of its own size.
      expect(mine[0]).toMatchObject({ images: 1, bytes, analyzed: { png: [0] } });
    }
  }, 120_000);
});
