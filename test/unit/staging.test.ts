import { DeleteObjectsCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  discardStaged,
  itemsFor,
  STAGING_PREFIX,
  stageImages,
} from '../../lambdas/ingest/staging.ts';
import type { Upload } from '../../lambdas/ingest/uploads.ts';

const upload = (bytes: number, filename: string | null = `${bytes}.jpg`): Upload => ({
  name: 'image',
  filename,
  contentType: 'image/jpeg',
  content: Buffer.alloc(bytes, 1),
});
const s3Mock = mockClient(S3Client);
const s3 = new S3Client({ region: 'us-east-1' });
beforeEach(() => s3Mock.reset());

describe('itemsFor', () => {
  const uploads = [upload(10), upload(600_000, null)];
  const items = itemsFor(uploads, { bucket: 'b', executionName: 'exec-1', deadline: 42 });

  it('keys every image under its execution, in upload order', () => {
    expect(items.map((i) => i.object)).toEqual([
      { bucket: 'b', key: `${STAGING_PREFIX}exec-1/0` },
      { bucket: 'b', key: `${STAGING_PREFIX}exec-1/1` },
    ]);
  });

  it('carries identity, size and deadline, every key present', () => {
    expect(items[1]).toEqual({
      index: 1,
      name: 'image',
      filename: null,
      contentType: 'image/jpeg',
      size: 600_000,
      object: { bucket: 'b', key: 'staging/exec-1/1' },
      deadline: 42,
    });
  });

  it('keeps the workflow input small whatever the images weigh', () => {
    const input = JSON.stringify({ items });
    expect(input.length).toBeLessThan(400);
  });
});

describe('stageImages and discardStaged', () => {
  const uploads = [upload(10), upload(20)];
  const items = itemsFor(uploads, { bucket: 'b', executionName: 'e', deadline: null });

  it('puts every image once, encrypted at rest, with its content type', async () => {
    s3Mock.on(PutObjectCommand).resolves({});
    await stageImages(s3, uploads, items);
    const puts = s3Mock.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
    expect(puts.map((p) => [p.Key, (p.Body as Buffer).length])).toEqual([
      ['staging/e/0', 10],
      ['staging/e/1', 20],
    ]);
    for (const put of puts)
      expect(put).toMatchObject({
        Bucket: 'b',
        ServerSideEncryption: 'AES256',
        ContentType: 'image/jpeg',
      });
  });

  it('deletes a batch in one request, and never throws', async () => {
    s3Mock.on(DeleteObjectsCommand).resolves({});
    expect(await discardStaged(s3, items)).toEqual({ deleted: 2 });
    expect(
      s3Mock
        .commandCalls(DeleteObjectsCommand)[0]
        ?.args[0].input.Delete?.Objects?.map((o) => o.Key),
    ).toEqual(['staging/e/0', 'staging/e/1']);
    s3Mock.on(DeleteObjectsCommand).rejects(new Error('SlowDown'));
    expect(await discardStaged(s3, items)).toMatchObject({ deleted: 0, error: expect.any(Error) });
    expect(await discardStaged(s3, [])).toEqual({ deleted: 0 });
  });
});
