/**
 * Large batches and asynchronous runs through the local runtime: every image staged in the
 * local S3 (s3rver) by the same SDK calls as in AWS, the STANDARD twin polled over HTTP, the
 * AWS CLI reading the runs from the local Step Functions endpoint.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { createS3Client } from '../../lambdas/shared/clients.ts';
import type { ExecutionInput } from '../../lambdas/shared/workflow.ts';
import { fixtureImage } from '../support/fixtures.ts';
import { get, postImages, postRaw, settled } from '../support/http.ts';
import { useLocalRuntime } from '../support/runtime.ts';

const run = promisify(execFile);
const local = useLocalRuntime();

const big = fixtureImage('rgb_4000x3000.jpg');
const threeBig = [1, 2, 3].map((n) => ({ name: `photo-${n}.jpg`, bytes: big, type: 'image/jpeg' }));
const BIG_SHAPE = [3000, 4000, 3];

const stagedObjects = async () => {
  const s3 = createS3Client(local.runtime.clientOptions.s3);
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: local.runtime.stagingBucket }));
  return listed.Contents?.map((o) => o.Key) ?? [];
};

describe('a 3 × 12 MP batch (1.9 MB), staged in S3', () => {
  let syncResult: unknown;

  it('is answered synchronously, and nothing staged outlives the run', async () => {
    const res = await postImages(`${local.api}/analyze`, threeBig);
    expect(res.status).toBe(200);
    syncResult = res.body;
    expect((res.body as { shape: number[] }[]).map((r) => r.shape)).toEqual([
      BIG_SHAPE,
      BIG_SHAPE,
      BIG_SHAPE,
    ]);
    const arn = res.headers.get('x-execution-arn') ?? '';
    const input = JSON.parse(local.runtime.sfn.executions.get(arn)?.input ?? '{}');
    // 36 MP: one chunk, read with one GET.
    const { chunks } = input as ExecutionInput;
    expect(chunks).toHaveLength(1);
    const items = chunks.flatMap((c) => c.Items);
    expect(items.map((i) => [i.size, i.offset])).toEqual([
      [big.length, 0],
      [big.length, big.length],
      [big.length, 2 * big.length],
    ]);
    expect(await stagedObjects()).toEqual([]);
  });

  it('is answered asynchronously with 202, then polled to SUCCEEDED with the same result', async () => {
    const accepted = await postImages(
      `${local.api}/analyze`,
      threeBig,
      {},
      { Prefer: 'respond-async' },
    );
    expect(accepted.status).toBe(202);
    const location = accepted.headers.get('location') ?? '';
    expect(location).toMatch(/^\/executions\/[0-9a-f-]{36}$/);
    expect(accepted.body).toMatchObject({ status: 'RUNNING', location });

    const done = await settled(`${local.api}${location}`);
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({
      status: 'SUCCEEDED',
      executionArn: expect.stringContaining(':execution:ImageBatchAsync:'),
      stopDate: expect.any(String),
    });
    expect((done.body as { result: unknown }).result).toEqual(syncResult);
    expect(await stagedObjects()).toEqual([]);
  });

  it('keeps the order of a batch of small and large images', async () => {
    const res = await postImages(`${local.api}/shape`, [
      { name: 'cat.jpg', bytes: fixtureImage('photo_400x600.jpg') },
      ...threeBig,
      { name: 'gray.jpg', bytes: fixtureImage('gray_300x200.jpg') },
    ]);
    expect(res.body).toEqual([[600, 400, 3], BIG_SHAPE, BIG_SHAPE, BIG_SHAPE, [200, 300]]);
    expect(await stagedObjects()).toEqual([]);
  });
});

describe('the largest batch the limits allow', () => {
  it('analyses 200 images with 255-character names asynchronously, every record within 256 KiB', async () => {
    const gray = fixtureImage('gray_300x200.jpg');
    const files = Array.from({ length: 200 }, (_, i) => ({
      name: `${String(i).padStart(3, '0')}${'n'.repeat(248)}.jpg`,
      bytes: gray,
      type: 'image/jpeg',
    }));
    const accepted = await postImages(
      `${local.api}/analyze`,
      files,
      {},
      { Prefer: 'respond-async' },
    );
    expect(accepted.body).toMatchObject({ status: 'RUNNING' });
    const done = await settled(`${local.api}${accepted.headers.get('location') ?? ''}`);
    expect(done.body).toMatchObject({ status: 'SUCCEEDED' });
    const records = (done.body as { result: { index: number; shape: number[] }[] }).result;
    expect(records.map((r) => r.index)).toEqual(files.map((_, i) => i));
    expect(records.every((r) => r.shape.join() === '200,300')).toBe(true);
    expect(await stagedObjects()).toEqual([]);
  }, 60_000);
});

describe('the request size limits', () => {
  it('returns a JSON 413 for an 11 MB request', async () => {
    const res = await postRaw(`${local.api}/shape`, Buffer.alloc(11 * 1024 * 1024), 'image/jpeg');
    expect(res.status).toBe(413);
    expect(res.body).toEqual({
      error: { code: 'PAYLOAD_TOO_LARGE', message: expect.stringContaining('10 MB') },
    });
  });

  it('returns a JSON 413 for a 5 MB request, which base64 makes too big for Lambda', async () => {
    const res = await postImages(
      `${local.api}/shape`,
      Array.from({ length: 8 }, (_, i) => ({ name: `${i}.jpg`, bytes: big })),
    );
    expect(res.status).toBe(413);
    expect(res.body).toEqual({
      error: { code: 'PAYLOAD_TOO_LARGE', message: expect.stringContaining('6 MB') },
    });
  });

  it('answers an unknown execution with 404', async () => {
    const res = await get(`${local.api}/executions/00000000-0000-0000-0000-000000000000`);
    expect(res.status).toBe(404);
    expect((res.body as { error: { code: string } }).error.code).toBe('NOT_FOUND');
  });
});

const awsCli = await run('aws', ['--version']).then(
  () => true,
  () => false,
);

describe.skipIf(!awsCli)('the AWS CLI reads the local runs', () => {
  const aws = async (...args: string[]) => {
    const { stdout } = await run('aws', [
      '--endpoint-url',
      local.runtime.sfnUrl,
      '--region',
      'us-east-1',
      '--no-sign-request',
      '--output',
      'json',
      'stepfunctions',
      ...args,
    ]);
    return JSON.parse(stdout);
  };

  it('lists, describes and reads the history of an async execution', async () => {
    const accepted = await postImages(
      `${local.api}/shape`,
      [{ name: 'cat.jpg', bytes: fixtureImage('photo_400x600.jpg') }],
      {},
      { Prefer: 'respond-async' },
    );
    await settled(`${local.api}${accepted.headers.get('location') ?? ''}`);
    const arn = (accepted.body as { executionArn: string }).executionArn;

    const listed = await aws(
      'list-executions',
      '--state-machine-arn',
      local.runtime.stateMachineArns.async,
    );
    expect(listed.executions.map((e: { executionArn: string }) => e.executionArn)).toContain(arn);
    const described = await aws('describe-execution', '--execution-arn', arn);
    expect(described.status).toBe('SUCCEEDED');
    expect(JSON.parse(described.output).results[0].shape).toEqual([600, 400, 3]);
    const history = await aws('get-execution-history', '--execution-arn', arn);
    expect(history.events.map((e: { type: string }) => e.type)).toContain('TaskStateExited');
  });
});
