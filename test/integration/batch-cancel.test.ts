/**
 * DELETE /batches/{id} on the local runtime, over real HTTP: real images uploaded to the local
 * S3 with their presigned POST forms, then the batch cancelled — its objects gone from the
 * local S3 (ListObjectsV2 and DeleteObjects as S3 serves them), its start refused; and a
 * running batch stopped, its execution ABORTED. The analysis Lambda's S3 is a server that
 * never answers, so that a started batch stays RUNNING until it is cancelled.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import {
  DescribeExecutionCommand,
  DescribeMapRunCommand,
  ListExecutionsCommand,
  ListMapRunsCommand,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3Client, createSfnClient } from '../../lambdas/shared/clients.ts';
import { type Runtime, startRuntime } from '../../local/runtime.ts';
import { fixtureImage } from '../support/fixtures.ts';
import { postToForm, type UploadForm } from '../support/http.ts';

const IMAGES = [
  { name: 'photo_400x600.jpg', type: 'image/jpeg' },
  { name: 'gray_300x200.jpg', type: 'image/jpeg' },
  { name: 'rgba_200x100.png', type: 'image/png' },
].map((f) => ({ ...f, bytes: fixtureImage(f.name) }));

let runtime: Runtime;
let silent: http.Server;
let s3: S3Client;
let sfn: SFNClient;
beforeAll(async () => {
  silent = http.createServer(() => undefined);
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  runtime = await startRuntime({
    port: 0,
    sfnPort: 0,
    s3Port: 0,
    analysisS3Endpoint: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`,
  });
  s3 = createS3Client(runtime.clientOptions.s3);
  sfn = createSfnClient(runtime.clientOptions.sfn);
});
afterAll(async () => {
  await runtime?.close();
  await new Promise<void>((resolve) => {
    silent.close(() => resolve());
    silent.closeAllConnections();
  });
});

const request = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${runtime.apiUrl}${path}`, {
    method,
    ...(body !== undefined && {
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
    }),
  });
  // biome-ignore lint/suspicious/noExplicitAny: a JSON answer, which the assertions look into
  return { status: res.status, headers: res.headers, body: (await res.json()) as any };
};

/** Declares the three images and uploads the first `count` with their forms, as a browser. */
const declareAndUpload = async (count: number) => {
  const created = await request('POST', '/batches', {
    view: 'shape',
    images: IMAGES.map((f) => ({ filename: f.name, contentType: f.type, bytes: f.bytes.length })),
  });
  expect(created.status).toBe(201);
  const forms = created.body.uploads as UploadForm[];
  for (const form of forms.slice(0, count)) expect(await upload(form)).toBe(204);
  return { id: created.body.batchId as string, forms };
};

/** Uploads the form's image; answers S3's status. */
const upload = async (form: UploadForm) => {
  const image = IMAGES[form.index] as (typeof IMAGES)[number];
  return (await postToForm(form, image.bytes, image.type)).status;
};

const keysOf = async (id: string) => {
  const listed = await s3.send(
    new ListObjectsV2Command({ Bucket: runtime.stagingBucket, Prefix: `batches/${id}/` }),
  );
  return (listed.Contents ?? []).map((o) => o.Key);
};

describe('a batch cancelled before its start', () => {
  let id: string;
  let forms: UploadForm[];

  it('answers 200 CANCELLED with its uploaded images deleted, leaving nothing but the mark in S3', async () => {
    ({ id, forms } = await declareAndUpload(2));
    expect(await keysOf(id)).toHaveLength(3); // the declaration and two uploads
    const res = await request('DELETE', `/batches/${id}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      batchId: id,
      status: 'CANCELLED',
      cancelledAt: expect.any(String),
      deleted: 2,
      complete: true,
      executionArn: null,
    });
    expect(await keysOf(id)).toEqual([`batches/${id}/cancelled.json`]);
  });

  it('refuses its start with 410 BATCH_CANCELLED, and reads as CANCELLED', async () => {
    const start = await request('POST', `/batches/${id}/start`);
    expect(start.status).toBe(410);
    expect(start.body.error).toMatchObject({ code: 'BATCH_CANCELLED', batchId: id });
    expect((await request('GET', `/batches/${id}`)).body).toMatchObject({ status: 'CANCELLED' });
    expect((await request('GET', `/batches/${id}/uploads`)).status).toBe(410);
  });

  it('is not brought back by an upload with a form handed out before: DELETE again removes it', async () => {
    // S3 cannot revoke a signed policy: the form is valid until it expires.
    expect(await upload(forms[2] as UploadForm)).toBe(204);
    expect((await request('POST', `/batches/${id}/start`)).status).toBe(410);
    const again = await request('DELETE', `/batches/${id}`);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ status: 'CANCELLED', deleted: 1, complete: true });
    expect(await keysOf(id)).toEqual([`batches/${id}/cancelled.json`]);
  });

  it('answers 404 for a batch that was never declared', async () => {
    const res = await request('DELETE', '/batches/0b7f3c1e-5d2a-4c8e-9f10-2a3b4c5d6e7f');
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('NOT_FOUND');
  });
});

describe('a running batch cancelled', () => {
  it('stops its run, whose execution ends ABORTED, and deletes its uploads', async () => {
    const { id } = await declareAndUpload(3);
    const start = await request('POST', `/batches/${id}/start`);
    expect(start.status).toBe(202);
    const executionArn = start.body.executionArn as string;
    // Its child is analyzing (and waits on a store that never answers).
    let mapRunArn: string | undefined;
    let children: string[] = [];
    for (let i = 0; i < 200 && children.length === 0; i++) {
      const { mapRuns } = await sfn.send(new ListMapRunsCommand({ executionArn }));
      mapRunArn = mapRuns?.[0]?.mapRunArn;
      if (mapRunArn) {
        const listed = await sfn.send(new ListExecutionsCommand({ mapRunArn }));
        children = (listed.executions ?? []).map((e) => e.status ?? '');
      }
      if (children.length === 0) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(children).toEqual(['RUNNING']);
    const res = await request('DELETE', `/batches/${id}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'CANCELLED', executionArn, deleted: 3 });
    let status: string | undefined;
    for (let i = 0; i < 100 && status !== 'ABORTED'; i++) {
      ({ status } = await sfn.send(new DescribeExecutionCommand({ executionArn })));
      if (status !== 'ABORTED') await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(status).toBe('ABORTED');
    // The local twin aborts the Map Run and its running child with it (README: in AWS an
    // Express child under way may run to its end).
    expect((await sfn.send(new DescribeMapRunCommand({ mapRunArn }))).status).toBe('ABORTED');
    const stopped = await sfn.send(new ListExecutionsCommand({ mapRunArn }));
    expect(stopped.executions?.map((e) => e.status)).toEqual(['ABORTED']);
    expect(await keysOf(id)).toEqual([`batches/${id}/cancelled.json`]);
    expect((await request('POST', `/batches/${id}/start`)).status).toBe(410);
    const described = await request('GET', `/batches/${id}`);
    expect(described.body).toMatchObject({ status: 'CANCELLED', executionArn });
    // The same final state, however many times it is asked.
    const again = await request('DELETE', `/batches/${id}`);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ status: 'CANCELLED', executionArn, deleted: 0 });
  }, 60_000);
});
