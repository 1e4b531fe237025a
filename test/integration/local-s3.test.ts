/**
 * The local S3 where s3rver alone falls short of S3 (ListObjectsV2 past 1,000 keys), and where
 * local/s3-store.ts changed how s3rver works (objects written whole and atomically, bucket
 * configurations remembered): the same answers, and S3's atomic writes of one key.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  DeleteBucketCorsCommand,
  DeleteObjectCommand,
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

const md5 = (bytes: Uint8Array) => createHash('md5').update(bytes).digest('hex');

/** Every file and directory under a directory, relative to it. */
const tree = async (directory: string) =>
  (await readdir(directory, { recursive: true })).map((entry) => entry.split(path.sep).join('/'));

/** A local S3 whose objects live in a directory the test can look into. */
const withOwnStore = async (
  test: (s3: S3Client, bucketDirectory: string) => Promise<void>,
): Promise<void> => {
  const directory = await mkdtemp(path.join(os.tmpdir(), 'image-batch-s3-test-'));
  const own = await startLocalS3({ host: '127.0.0.1', port: 0, bucket: 'atomic', directory });
  try {
    const client = createS3Client({
      endpoint: own.url,
      region: 'us-east-1',
      credentials: LOCAL_S3_CREDENTIALS,
    });
    await test(client, path.join(directory, 'atomic'));
  } finally {
    await own.close();
    await rm(directory, { recursive: true, force: true });
  }
};

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

  it('answers every GET racing two PUTs of one key with one of the bodies whole and its own ETag', async () => {
    await withOwnStore(async (client, bucketDirectory) => {
      const Key = 'race/object';
      const [before, first, second] = [1, 3, 2].map((mb) => randomBytes(mb * 1024 * 1024)) as [
        Buffer,
        Buffer,
        Buffer,
      ];
      const known = new Map([before, first, second].map((body) => [md5(body), body]));
      await client.send(new PutObjectCommand({ Bucket: 'atomic', Key, Body: before }));
      const got: { etag: string; bytes: Buffer }[] = [];
      const get = async () => {
        const answer = await client.send(new GetObjectCommand({ Bucket: 'atomic', Key }));
        const bytes = Buffer.from((await answer.Body?.transformToByteArray()) ?? []);
        got.push({ etag: answer.ETag ?? '', bytes });
      };
      for (let round = 0; round < 8; round++) {
        await Promise.all([
          client.send(new PutObjectCommand({ Bucket: 'atomic', Key, Body: first })),
          get(),
          client.send(new PutObjectCommand({ Bucket: 'atomic', Key, Body: second })),
          get(),
          get(),
          get(),
        ]);
        await get();
      }
      expect(got).toHaveLength(8 * 5);
      for (const { etag, bytes } of got) {
        // Its ETag names one of the bodies, and the bytes are that body, whole.
        const body = known.get(JSON.parse(etag) as string);
        expect(body).toBeDefined();
        expect(bytes.equals(body ?? Buffer.alloc(0))).toBe(true);
      }
      const last = got.at(-1);
      expect([md5(first), md5(second)]).toContain(md5(last?.bytes ?? Buffer.alloc(0)));
      // No temporary file left beside the object's own three.
      expect((await tree(bucketDirectory)).sort()).toEqual([
        'race',
        'race/object._S3rver_metadata.json',
        'race/object._S3rver_object',
        'race/object._S3rver_object.md5',
      ]);
    });
  }, 60_000);

  it('leaves no stray file nor empty directory when DELETEs race PUTs of the same keys', async () => {
    await withOwnStore(async (client, bucketDirectory) => {
      const body = randomBytes(600 * 1024);
      const lane = async () => {
        for (let run = 0; run < 25; run++) {
          const Key = `staging/${randomUUID()}/0`;
          // The DELETE may land before, during or after the PUT: either the object is there
          // whole with its ETag, or it is not there at all.
          await Promise.all([
            client.send(new PutObjectCommand({ Bucket: 'atomic', Key, Body: body })),
            client.send(new DeleteObjectCommand({ Bucket: 'atomic', Key })),
          ]);
          const answer = await client
            .send(new GetObjectCommand({ Bucket: 'atomic', Key }))
            .catch((error: Error) => error);
          if (answer instanceof Error) expect(answer.name).toBe('NoSuchKey');
          else {
            const bytes = Buffer.from((await answer.Body?.transformToByteArray()) ?? []);
            expect(bytes.equals(body)).toBe(true);
            expect(answer.ETag).toBe(`"${md5(body)}"`);
          }
          await client.send(new DeleteObjectCommand({ Bucket: 'atomic', Key }));
        }
      };
      await Promise.all(Array.from({ length: 4 }, lane));
      // Every object deleted: no file left, and the directories their keys made are gone too.
      expect(await tree(bucketDirectory)).toEqual([]);
    });
  }, 60_000);
});
