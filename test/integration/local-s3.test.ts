/** The local S3 where s3rver alone falls short of S3: ListObjectsV2 past 1,000 keys. */
import { PutObjectCommand, paginateListObjectsV2, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3Client } from '../../lambdas/shared/clients.ts';
import { LOCAL_S3_CREDENTIALS, startLocalS3 } from '../../local/s3.ts';

const BUCKET = 'listing';
let server: Awaited<ReturnType<typeof startLocalS3>>;
let s3: S3Client;
beforeAll(async () => {
  server = await startLocalS3({ host: '127.0.0.1', port: 0, bucket: BUCKET });
  s3 = createS3Client({
    endpoint: server.url,
    region: 'us-east-1',
    credentials: LOCAL_S3_CREDENTIALS,
  });
});
afterAll(() => server?.close());

describe('the local S3', () => {
  it('pages a ListObjectsV2 of 1,205 keys with continuation tokens and StartAfter', async () => {
    const keys = Array.from({ length: 1205 }, (_, i) => `p/${String(i).padStart(5, '0')}`);
    for (let i = 0; i < keys.length; i += 50) {
      await Promise.all(
        keys
          .slice(i, i + 50)
          .map((Key) => s3.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: 'x' }))),
      );
    }
    const listed: string[] = [];
    const pages: number[] = [];
    for await (const page of paginateListObjectsV2(
      { client: s3 },
      { Bucket: BUCKET, Prefix: 'p/' },
    )) {
      pages.push(page.KeyCount ?? -1);
      listed.push(...(page.Contents ?? []).map((o) => o.Key ?? ''));
    }
    expect(pages).toEqual([1000, 205]);
    expect(listed).toEqual(keys);

    const after: string[] = [];
    for await (const page of paginateListObjectsV2(
      { client: s3, pageSize: 100 },
      { Bucket: BUCKET, Prefix: 'p/', StartAfter: 'p/01000' },
    ))
      after.push(...(page.Contents ?? []).map((o) => o.Key ?? ''));
    expect(after).toEqual(keys.slice(1001));
  }, 60_000);
});
