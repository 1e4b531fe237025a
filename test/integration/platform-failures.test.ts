/**
 * Failures of the platform are not unreadable images. The local runtime with a store that
 * fails under the analysis Lambda (its S3 endpoint a stopped server, or one that never
 * answers): /shape and /nbytes answer a JSON 503 with Retry-After, /analyze a record marked
 * retryable, a workflow that outlasts the sync deadline a 504 WORKFLOW_TIMED_OUT — and the
 * local S3 loses no object under a storm of concurrent PUTs and DELETEs.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3Client } from '../../lambdas/shared/clients.ts';
import { type Runtime, startRuntime } from '../../local/runtime.ts';
import { LOCAL_S3_CREDENTIALS, startLocalS3 } from '../../local/s3.ts';
import { fixtureImage } from '../support/fixtures.ts';
import { postImages } from '../support/http.ts';

const cat = { name: 'cat.jpg', bytes: fixtureImage('photo_400x600.jpg'), type: 'image/jpeg' };
const gray = { name: 'gray.jpg', bytes: fixtureImage('gray_300x200.jpg'), type: 'image/jpeg' };

const listen = async (server: http.Server) => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
};
const stop = (server: http.Server) =>
  new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });

const stagedKeys = async (runtime: Runtime) => {
  const s3 = createS3Client(runtime.clientOptions.s3);
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: runtime.stagingBucket }));
  return listed.Contents?.map((o) => o.Key) ?? [];
};

describe('a store that refuses the analysis Lambda (a stopped server)', () => {
  let runtime: Runtime;
  beforeAll(async () => {
    // A port that was just listening and is now closed: connections are refused.
    const stopped = http.createServer();
    const endpoint = await listen(stopped);
    await stop(stopped);
    runtime = await startRuntime({ port: 0, sfnPort: 0, s3Port: 0, analysisS3Endpoint: endpoint });
  });
  afterAll(() => runtime.close());

  it('answers /shape with a JSON 503 and Retry-After, never [] for a valid image', async () => {
    const res = await postImages(`${runtime.apiUrl}/shape`, [cat, gray]);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(res.body).toEqual({
      error: {
        code: 'ANALYSIS_FAILED',
        message: expect.any(String),
        retryable: true,
        indexes: [0, 1],
      },
    });
    // The workflow retried the chunk's read (both images, one GET) before giving up on it.
    const arn = [...runtime.sfn.executions.keys()].at(-1) ?? '';
    const events = runtime.sfn.executions.get(arn)?.history.events ?? [];
    const failures = events.filter(
      (e) => e.type === 'LambdaFunctionFailed' || e.type === 'TaskFailed',
    );
    expect(failures.length).toBeGreaterThanOrEqual(3);
    // Nothing staged is left behind: the workflow deleted the batch's object all the same.
    expect(await stagedKeys(runtime)).toEqual([]);
  }, 30_000);

  it('answers /analyze with the record marked retryable', async () => {
    const res = await postImages(`${runtime.apiUrl}/analyze`, [cat]);
    expect(res.status).toBe(200);
    expect(res.body).toEqual([
      {
        index: 0,
        name: 'image',
        filename: 'cat.jpg',
        contentType: 'image/jpeg',
        bytes: cat.bytes.length,
        error: {
          code: 'ANALYSIS_FAILED',
          message: expect.stringContaining('StagedImageUnavailable'),
          retryable: true,
        },
      },
    ]);
  }, 30_000);
});

describe('a store that never answers the analysis Lambda', () => {
  let runtime: Runtime;
  let silent: http.Server;
  beforeAll(async () => {
    silent = http.createServer(() => undefined);
    const endpoint = await listen(silent);
    runtime = await startRuntime({
      port: 0,
      sfnPort: 0,
      s3Port: 0,
      analysisS3Endpoint: endpoint,
      ingest: { syncDeadlineMs: 1_500 },
    });
  });
  afterAll(async () => {
    await runtime.close();
    await stop(silent);
  });

  it('answers the sync deadline with 504 WORKFLOW_TIMED_OUT and its hint', async () => {
    const res = await postImages(`${runtime.apiUrl}/shape`, [cat]);
    expect(res.status).toBe(504);
    expect(res.body).toEqual({
      error: {
        code: 'WORKFLOW_TIMED_OUT',
        message: expect.any(String),
        hint: expect.stringContaining('Prefer: respond-async'),
      },
    });
    expect(await stagedKeys(runtime)).toEqual([]);
  });
});

describe('the local S3 under a storm of concurrent PUTs and DELETEs', () => {
  it('loses no object: every PUT that answered is there to GET until it is deleted', async () => {
    const store = await startLocalS3({ host: '127.0.0.1', port: 0, bucket: 'storm' });
    try {
      const s3 = createS3Client({
        endpoint: store.url,
        region: 'us-east-1',
        credentials: LOCAL_S3_CREDENTIALS,
      });
      const body = fixtureImage('gray_300x200.jpg');
      let lost = 0;
      let checked = 0;
      // Like executions one after another on a few lanes: each stages an image under its own
      // prefix, reads it back and deletes it — so `staging/` keeps emptying while another
      // lane's PUT is on its way into it.
      const lane = async () => {
        for (let run = 0; run < 150; run++) {
          const Key = `staging/${randomUUID()}/0`;
          await s3.send(new PutObjectCommand({ Bucket: 'storm', Key, Body: body }));
          try {
            const got = await s3.send(new GetObjectCommand({ Bucket: 'storm', Key }));
            const bytes = await got.Body?.transformToByteArray();
            if (bytes?.length !== body.length) lost += 1;
          } catch {
            lost += 1;
          }
          checked += 1;
          await s3.send(new DeleteObjectCommand({ Bucket: 'storm', Key }));
        }
      };
      await Promise.all(Array.from({ length: 4 }, lane));
      expect(checked).toBe(4 * 150);
      expect(lost).toBe(0);
    } finally {
      await store.close();
    }
  }, 60_000);
});
