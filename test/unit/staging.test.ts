import { DeleteObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  CHUNK_LIMITS,
  chunksFor,
  discardStaged,
  itemsFor,
  STAGING_PREFIX,
  stageImages,
  stagingKey,
} from '../../lambdas/ingest/staging.ts';
import type { Upload } from '../../lambdas/ingest/uploads.ts';

const upload = (bytes: number, fill: number, filename: string | null = `${bytes}.jpg`): Upload => ({
  name: 'image',
  filename,
  contentType: 'image/jpeg',
  content: Buffer.alloc(bytes, fill),
});
const s3Mock = mockClient(S3Client);
const s3 = new S3Client({ region: 'us-east-1' });
beforeEach(() => s3Mock.reset());

const staged = { bucket: 'b', key: stagingKey('exec-1') };
const uploads = [upload(10, 1), upload(600_000, 2, null), upload(0, 3), upload(5, 4)];

describe('itemsFor', () => {
  const items = itemsFor(uploads);

  it('keys the batch under its execution', () => {
    expect(staged.key).toBe(`${STAGING_PREFIX}exec-1/images`);
  });

  it('gives each image its byte range, in upload order', () => {
    expect(items.map((i) => [i.offset, i.size])).toEqual([
      [0, 10],
      [10, 600_000],
      [600_010, 0],
      [600_010, 5],
    ]);
  });

  it('carries identity, size and offset, every key present, and leaves the object and the deadline to the input', () => {
    expect(items[1]).toEqual({
      index: 1,
      name: 'image',
      filename: null,
      contentType: 'image/jpeg',
      size: 600_000,
      offset: 10,
    });
  });

  it('keeps the workflow input small whatever the images weigh', () => {
    expect(JSON.stringify({ items }).length).toBeLessThan(1000);
  });
});

describe('chunksFor', () => {
  const many = (count: number, bytes = 1000) =>
    itemsFor(Array.from({ length: count }, (_, i) => upload(bytes, i)));
  const sizes = (chunks: { Items: unknown[] }[]) => chunks.map((c) => c.Items.length);

  it('makes a small batch one chunk: one invocation, one GET', () => {
    const items = many(10);
    const chunks = chunksFor(
      items,
      items.map(() => 240_000),
    );
    expect(chunks).toEqual([{ Items: items }]);
  });

  it('keeps every image once, in upload order, each chunk a contiguous byte range', () => {
    const items = many(3 * CHUNK_LIMITS.images + 2);
    const chunks = chunksFor(
      items,
      items.map(() => 1),
    );
    expect(sizes(chunks)).toEqual([
      CHUNK_LIMITS.images,
      CHUNK_LIMITS.images,
      CHUNK_LIMITS.images,
      2,
    ]);
    expect(chunks.flatMap((c) => c.Items)).toEqual(items);
    for (const { Items } of chunks)
      for (const [i, item] of Items.entries())
        if (i > 0)
          expect(item.offset).toBe((Items[i - 1]?.offset ?? 0) + (Items[i - 1]?.size ?? 0));
  });

  it('spreads images heavy in declared pixels over several chunks, one past the limit alone', () => {
    const items = many(6);
    const twelveMp = 12_000_000;
    const pixels = [twelveMp, twelveMp, twelveMp, twelveMp, twelveMp, 179_000_000];
    expect(sizes(chunksFor(items, pixels))).toEqual([4, 1, 1]);
  });

  it('cuts by bytes too, counting an image with no readable header by its size', () => {
    const items = many(5, 1024 * 1024);
    expect(sizes(chunksFor(items, [0, 0, 0, 0, 0]))).toEqual([4, 1]);
  });
});

describe('stageImages and discardStaged', () => {
  it('puts the batch once, encrypted at rest, the images at their offsets', async () => {
    s3Mock.on(PutObjectCommand).resolves({});
    await stageImages(s3, staged, uploads);
    const puts = s3Mock.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
    expect(puts).toHaveLength(1);
    expect(puts[0]).toMatchObject({
      Bucket: 'b',
      Key: 'staging/exec-1/images',
      ServerSideEncryption: 'AES256',
    });
    const body = puts[0]?.Body as Buffer;
    for (const item of itemsFor(uploads))
      expect(body.subarray(item.offset, item.offset + item.size)).toEqual(
        uploads[item.index]?.content,
      );
  });

  it('deletes the staged object, and never throws', async () => {
    s3Mock.on(DeleteObjectCommand).resolves({});
    expect(await discardStaged(s3, staged)).toEqual({ deleted: true });
    expect(s3Mock.commandCalls(DeleteObjectCommand)[0]?.args[0].input).toEqual({
      Bucket: 'b',
      Key: 'staging/exec-1/images',
    });
    s3Mock.on(DeleteObjectCommand).rejects(new Error('SlowDown'));
    expect(await discardStaged(s3, staged)).toMatchObject({
      deleted: false,
      error: expect.any(Error),
    });
  });
});
