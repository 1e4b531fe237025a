import { GetObjectCommand, NoSuchKey, S3Client } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { analyzeItem } from '../../lambdas/analyze/analyze-item.ts';
import { createHandler } from '../../lambdas/analyze/handler.ts';
import { createLogger } from '../../lambdas/shared/logger.ts';
import type { MapItem } from '../../lambdas/shared/workflow.ts';
import { fixtureImage } from '../support/fixtures.ts';

const cat = fixtureImage('photo_400x600.jpg');
const gray = fixtureImage('gray_300x200.jpg');
/** The request's staged object: gray, then cat. */
const object = Buffer.concat([gray, cat]);
const item = (overrides: Partial<MapItem> = {}): MapItem => ({
  index: 3,
  name: 'image',
  filename: 'cat.jpg',
  contentType: 'image/jpeg',
  size: cat.length,
  object: { bucket: 'b', key: 'staging/e/images' },
  offset: gray.length,
  deadline: null,
  ...overrides,
});
const s3Mock = mockClient(S3Client);
const s3 = new S3Client({ region: 'us-east-1' });

/** Answers a ranged GET as S3 does: the bytes of the range, inclusive. */
beforeEach(() => {
  s3Mock.reset();
  s3Mock.on(GetObjectCommand).callsFake(async (input: { Key: string; Range?: string }) => {
    if (input.Key !== 'staging/e/images') throw new NoSuchKey({ message: 'gone', $metadata: {} });
    const [, start, end] = /^bytes=(\d+)-(\d+)$/.exec(input.Range ?? '') ?? [];
    const bytes = object.subarray(Number(start), Number(end) + 1);
    return { Body: { transformToByteArray: async () => new Uint8Array(bytes) } };
  });
});

describe('analyzeItem', () => {
  it('reads its byte range of the staged object, analyzes it and keeps the identity', async () => {
    const record = await analyzeItem(item(), { s3 });
    expect(record).toMatchObject({
      index: 3,
      name: 'image',
      filename: 'cat.jpg',
      contentType: 'image/jpeg',
      shape: [600, 400, 3],
      nbytes: 720,
      bytes: cat.length,
    });
    expect(s3Mock.commandCalls(GetObjectCommand)[0]?.args[0].input).toEqual({
      Bucket: 'b',
      Key: 'staging/e/images',
      Range: `bytes=${gray.length}-${gray.length + cat.length - 1}`,
    });
  });

  it('reads nothing for an empty upload, which the analysis calls empty', async () => {
    const record = await analyzeItem(item({ size: 0, offset: 0 }), { s3 });
    expect(record).toMatchObject({ index: 3, error: { code: 'EMPTY_IMAGE' } });
    expect(s3Mock.commandCalls(GetObjectCommand)).toHaveLength(0);
  });

  it('throws StagedImageUnavailable when the store fails, for the workflow to retry', async () => {
    const gone = item({ object: { bucket: 'b', key: 'staging/gone/images' } });
    await expect(analyzeItem(gone, { s3 })).rejects.toMatchObject({
      name: 'StagedImageUnavailable',
      message: 'The staged image could not be read: NoSuchKey',
    });
  });

  it('throws StagedImageUnavailable when the store returns fewer bytes than the range', async () => {
    const past = item({ offset: object.length - 10, size: 20 });
    await expect(analyzeItem(past, { s3 })).rejects.toMatchObject({
      name: 'StagedImageUnavailable',
    });
  });

  it('skips an image past its deadline without reading it', async () => {
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
        Items: [item({ index: 4, filename: 'gray.jpg', offset: 0, size: gray.length }), item()],
        BatchInput: {},
      },
      context,
    );
    expect(records).toEqual([
      expect.objectContaining({ index: 4, shape: [200, 300] }),
      expect.objectContaining({ index: 3, shape: [600, 400, 3] }),
    ]);
  });
});
