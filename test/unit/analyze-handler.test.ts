import { DeleteObjectCommand, GetObjectCommand, NoSuchKey, S3Client } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { analyzeItem } from '../../lambdas/analyze/analyze-item.ts';
import { handler } from '../../lambdas/analyze/handler.ts';
import type { MapItem } from '../../lambdas/shared/types.ts';
import { fixtureImage } from '../support/fixtures.ts';

const cat = fixtureImage('photo_400x600.jpg');
const item = (source: MapItem['source']): MapItem => ({
  index: 3,
  name: 'image',
  filename: 'cat.jpg',
  contentType: 'image/jpeg',
  source,
});
const s3Mock = mockClient(S3Client);
const s3 = new S3Client({ region: 'us-east-1' });

beforeEach(() => s3Mock.reset());

describe('analyzeItem', () => {
  it('analyses an inline image and keeps the item identity', async () => {
    const record = await analyzeItem(item({ inline: cat.toString('base64') }), { s3 });
    expect(record).toMatchObject({
      index: 3,
      name: 'image',
      filename: 'cat.jpg',
      shape: [600, 400, 3],
      nbytes: 720,
    });
    expect(s3Mock.calls()).toHaveLength(0);
  });

  it('reads a staged image from S3 and deletes it once analysed', async () => {
    s3Mock.on(GetObjectCommand, { Bucket: 'b', Key: 'k' }).resolves({
      Body: { transformToByteArray: async () => new Uint8Array(cat) } as never,
    });
    const record = await analyzeItem(item({ s3: { bucket: 'b', key: 'k' } }), { s3 });
    expect(record).toMatchObject({ index: 3, shape: [600, 400, 3] });
    expect(s3Mock.commandCalls(DeleteObjectCommand).map((c) => c.args[0].input)).toEqual([
      { Bucket: 'b', Key: 'k' },
    ]);
  });

  it('still answers when the staged image cannot be deleted, and says so', async () => {
    s3Mock.on(GetObjectCommand).resolves({
      Body: { transformToByteArray: async () => new Uint8Array(cat) } as never,
    });
    s3Mock.on(DeleteObjectCommand).rejects(new Error('AccessDenied'));
    const failures: unknown[] = [];
    const record = await analyzeItem(item({ s3: { bucket: 'b', key: 'k' } }), {
      s3,
      onDeleteFailed: (e) => failures.push(e),
    });
    expect(record).toMatchObject({ shape: [600, 400, 3] });
    expect(failures).toHaveLength(1);
  });

  it('reports a staged image that is gone as unavailable instead of failing the batch', async () => {
    s3Mock.on(GetObjectCommand).rejects(new NoSuchKey({ message: 'gone', $metadata: {} }));
    const record = await analyzeItem(item({ s3: { bucket: 'b', key: 'k' } }), { s3 });
    expect(record).toMatchObject({ index: 3, bytes: 0, error: { code: 'SOURCE_UNAVAILABLE' } });
  });
});

describe('analyze handler', () => {
  it('answers a Map item with its record through the middy chain', async () => {
    const context = { functionName: 'analyze', awsRequestId: 'req-1' } as Context;
    const record = await handler(item({ inline: cat.toString('base64') }), context);
    expect(record).toMatchObject({ index: 3, format: 'jpeg', shape: [600, 400, 3] });
  });
});
