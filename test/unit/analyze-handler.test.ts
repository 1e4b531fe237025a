import { DeleteObjectCommand, GetObjectCommand, NoSuchKey, S3Client } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { analyzeItem } from '../../lambdas/analyze/analyze-item.ts';
import { createHandler } from '../../lambdas/analyze/handler.ts';
import { createLogger } from '../../lambdas/shared/logger.ts';
import type { MapItem } from '../../lambdas/shared/workflow.ts';
import { sharedImage } from '../support/fixtures.ts';

const cat = sharedImage('cat.jpg');
const gray = sharedImage('gray_300x200.jpg');
const item = (overrides: Partial<MapItem> = {}): MapItem => ({
  index: 3,
  name: 'image',
  filename: 'cat.jpg',
  contentType: 'image/jpeg',
  size: cat.length,
  object: { bucket: 'b', key: 'staging/e/3' },
  deadline: null,
  ...overrides,
});
const s3Mock = mockClient(S3Client);
const s3 = new S3Client({ region: 'us-east-1' });
const body = (bytes: Buffer) =>
  ({ Body: { transformToByteArray: async () => new Uint8Array(bytes) } }) as never;
const deleted = () => s3Mock.commandCalls(DeleteObjectCommand).map((c) => c.args[0].input.Key);

beforeEach(() => {
  s3Mock.reset();
  s3Mock.on(GetObjectCommand, { Bucket: 'b', Key: 'staging/e/3' }).resolves(body(cat));
  s3Mock.on(GetObjectCommand, { Bucket: 'b', Key: 'staging/e/4' }).resolves(body(gray));
});

describe('analyzeItem', () => {
  it('reads the staged image, analyzes it, keeps the identity and deletes the object', async () => {
    const record = await analyzeItem(item(), { s3 });
    expect(record).toMatchObject({
      index: 3,
      name: 'image',
      filename: 'cat.jpg',
      contentType: 'image/jpeg',
      shape: [600, 400, 3],
      nbytes: 720,
    });
    expect(deleted()).toEqual(['staging/e/3']);
  });

  it('still answers when the staged image cannot be deleted, and says so', async () => {
    s3Mock.on(DeleteObjectCommand).rejects(new Error('AccessDenied'));
    const failures: unknown[] = [];
    const record = await analyzeItem(item(), { s3, onDeleteFailed: (e) => failures.push(e) });
    expect(record).toMatchObject({ shape: [600, 400, 3] });
    expect(failures).toHaveLength(1);
  });

  it('throws StagedImageUnavailable and keeps the object when the store fails, for the workflow to retry', async () => {
    s3Mock.on(GetObjectCommand).rejects(new NoSuchKey({ message: 'gone', $metadata: {} }));
    await expect(analyzeItem(item(), { s3 })).rejects.toMatchObject({
      name: 'StagedImageUnavailable',
      message: 'The staged image could not be read: NoSuchKey',
    });
    expect(deleted()).toEqual([]);
  });

  it('skips an image past its deadline, without reading it, and still deletes its object', async () => {
    const record = await analyzeItem(item({ deadline: 1_000 }), { s3, now: () => 2_000 });
    expect(record).toEqual({
      index: 3,
      name: 'image',
      filename: 'cat.jpg',
      contentType: 'image/jpeg',
      bytes: cat.length,
      error: { code: 'DEADLINE_EXCEEDED', message: expect.any(String), retryable: true },
    });
    expect(s3Mock.commandCalls(GetObjectCommand)).toHaveLength(0);
    expect(deleted()).toEqual(['staging/e/3']);
  });

  it('analyzes an image whose deadline is still ahead', async () => {
    const record = await analyzeItem(item({ deadline: 3_000 }), { s3, now: () => 2_000 });
    expect(record).toMatchObject({ shape: [600, 400, 3] });
  });
});

describe('analyze handler', () => {
  const handler = createHandler({ s3, logger: createLogger('image-analyze') });
  const context = { functionName: 'analyze', awsRequestId: 'req-1' } as Context;

  it('answers a Map item with its record through the middy chain', async () => {
    const record = await handler(item(), context);
    expect(record).toMatchObject({ index: 3, format: 'jpeg', shape: [600, 400, 3] });
  });

  it('answers an ItemBatcher batch with one record per item, in order', async () => {
    const records = await handler(
      {
        Items: [
          item({ index: 4, filename: 'gray.jpg', object: { bucket: 'b', key: 'staging/e/4' } }),
          item(),
        ],
        BatchInput: {},
      },
      context,
    );
    expect(records).toEqual([
      expect.objectContaining({ index: 4, shape: [200, 300] }),
      expect.objectContaining({ index: 3, shape: [600, 400, 3] }),
    ]);
    expect(deleted()).toEqual(['staging/e/4', 'staging/e/3']);
  });
});
