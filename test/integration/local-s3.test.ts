/**
 * The local S3 where s3rver alone falls short of S3 (ListObjectsV2 past 1,000 keys), and where
 * local/s3-store.ts changed how s3rver works (objects written whole, bucket configurations
 * remembered): the same answers.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  DeleteBucketCorsCommand,
  GetObjectCommand,
  PutBucketCorsCommand,
  PutObjectCommand,
  paginateListObjectsV2,
  type S3Client,
} from '@aws-sdk/client-s3';
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

  it('answers an object written whole with its bytes, its MD5 as ETag and a range of it', async () => {
    const body = randomBytes(3 * 1024 * 1024 + 17);
    const put = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'whole/a', Body: body }));
    const md5 = createHash('md5').update(body).digest('hex');
    expect(put.ETag).toBe(`"${md5}"`);
    const whole = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'whole/a' }));
    expect(whole.ETag).toBe(`"${md5}"`);
    expect(Buffer.from((await whole.Body?.transformToByteArray()) ?? []).equals(body)).toBe(true);
    const range = await s3.send(
      new GetObjectCommand({ Bucket: BUCKET, Key: 'whole/a', Range: 'bytes=1000-1999' }),
    );
    expect(range.ContentRange).toBe(`bytes 1000-1999/${body.length}`);
    const slice = Buffer.from((await range.Body?.transformToByteArray()) ?? []);
    expect(slice.equals(body.subarray(1000, 2000))).toBe(true);
  });

  it('answers a CORS preflight once the bucket has CORS rules, and refuses it once they go', async () => {
    const preflight = () =>
      fetch(`${server.url}/${BUCKET}/any`, {
        method: 'OPTIONS',
        headers: { Origin: 'http://example.test', 'Access-Control-Request-Method': 'PUT' },
      }).then((res) => res.status);
    expect(await preflight()).toBe(403);
    await s3.send(
      new PutBucketCorsCommand({
        Bucket: BUCKET,
        CORSConfiguration: {
          CORSRules: [{ AllowedOrigins: ['http://example.test'], AllowedMethods: ['PUT'] }],
        },
      }),
    );
    expect(await preflight()).toBe(200);
    await s3.send(new DeleteBucketCorsCommand({ Bucket: BUCKET }));
    expect(await preflight()).toBe(403);
  });
});
