/**
 * A local S3 for the staged images: s3rver (the maintained @20minutes fork) speaks the S3 REST
 * API to the same @aws-sdk/client-s3 calls the Lambdas make in AWS; only the endpoint differs.
 * Objects live in the directory given (the runtime's state folder, so that they survive a
 * restart), or else in a temporary directory that goes away with the runtime.
 */
import { access, mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import S3rver from '@20minutes/s3rver';
import { postPolicyMiddleware } from './s3-post-policy.ts';
import { oneAtATime, tuneLocalS3 } from './s3-store.ts';

/** s3rver's built-in credentials: requests must be signed with them. */
export const LOCAL_S3_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export const startLocalS3 = async (options: {
  host: string;
  port: number;
  bucket: string;
  /** Kept after close; without it, a temporary directory removed on close. */
  directory?: string;
}) => {
  const temporary = options.directory === undefined;
  const directory = options.directory ?? (await mkdtemp(path.join(os.tmpdir(), 'image-batch-s3-')));
  await mkdir(directory, { recursive: true });
  const server = new S3rver({
    address: options.host,
    port: options.port,
    silent: true,
    directory,
    // Signatures are checked for form, not value: the local S3 is not a security boundary,
    // and some SDK signing paths (checksums on DELETE) differ from what s3rver recomputes.
    allowMismatchedSignatures: true,
    vhostBuckets: false,
    configureBuckets: [{ name: options.bucket }],
  });
  tuneLocalS3(server);
  const middleware = (server as unknown as { middleware: unknown[] }).middleware;
  // Just before s3rver's router (its last middleware), after its XML encoder.
  middleware.splice(
    middleware.length - 1,
    0,
    listV2WithoutDes,
    conditionalPut(options.bucket, server.store),
  );
  // s3rver ignores a form upload's policy; S3 enforces it (s3-post-policy.ts). First in line,
  // so that a refused upload never reaches s3rver.
  middleware.unshift(
    postPolicyMiddleware({
      bucket: options.bucket,
      secretAccessKey: LOCAL_S3_CREDENTIALS.secretAccessKey,
    }) as never,
  );
  const address = await server.run();
  return {
    url: `http://${options.host}:${address.port}`,
    close: async () => {
      await server.close();
      if (temporary) await rm(directory, { recursive: true, force: true });
    },
  };
};

interface ListContext {
  method: string;
  path: string;
  query: Record<string, string | string[] | undefined>;
  body: unknown;
}

interface ListBucketResult {
  Marker?: string;
  NextMarker?: string;
  IsTruncated?: boolean;
  Contents?: { Key: string }[];
  [field: string]: unknown;
}

/**
 * s3rver's ListObjectsV2 pagination encrypts its continuation tokens with DES, which OpenSSL 3
 * (Node ≥ 17) no longer offers: any listing of more than 1,000 keys answered 500 InternalError.
 * This runs a V2 listing as s3rver's V1 (Marker = the key to start after) and answers it in
 * V2's shape, the token being the last key, base64url-encoded (S3's tokens are opaque too).
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html
 */
const listV2WithoutDes = async (ctx: ListContext, next: () => Promise<void>) => {
  if (ctx.method !== 'GET' || ctx.query['list-type'] !== '2' || !/^\/[^/]+\/?$/.test(ctx.path))
    return next();
  const {
    'list-type': _,
    'continuation-token': token,
    'start-after': startAfter,
    ...rest
  } = ctx.query;
  const from =
    typeof token === 'string' ? Buffer.from(token, 'base64url').toString('utf8') : startAfter;
  ctx.query = { ...rest, ...(typeof from === 'string' && { marker: from }) };
  await next();
  const result = (ctx.body as { ListBucketResult?: ListBucketResult } | undefined)
    ?.ListBucketResult;
  if (!result) return;
  const { Marker: __, NextMarker: ___, ...fields } = result;
  const contents = result.Contents ?? [];
  const last = contents.at(-1)?.Key;
  ctx.body = {
    ListBucketResult: {
      ...fields,
      ...(typeof token === 'string' ? { ContinuationToken: token } : { StartAfter: startAfter }),
      ...(result.IsTruncated &&
        last !== undefined && {
          NextContinuationToken: Buffer.from(last, 'utf8').toString('base64url'),
        }),
      KeyCount: contents.length,
    },
  };
};

interface PutContext {
  method: string;
  path: string;
  query: Record<string, string | string[] | undefined>;
  headers: Record<string, string | string[] | undefined>;
  status: number;
  type: string;
  body: unknown;
}

/**
 * S3's conditional write, which s3rver ignores on PUT: with `If-None-Match: *`, a PUT of a key
 * that already exists answers 412 PreconditionFailed and writes nothing; of two racing PUTs,
 * one wins. Checks and writes of one key are serialized here so that the race has one winner,
 * as in S3. https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html
 */
const conditionalPut = (bucket: string, store: S3rver['store']) => {
  const turn = oneAtATime();
  return async (ctx: PutContext, next: () => Promise<void>) => {
    const prefix = `/${bucket}/`;
    if (
      ctx.method !== 'PUT' ||
      ctx.headers['if-none-match'] !== '*' ||
      !ctx.path.startsWith(prefix) ||
      ctx.headers['x-amz-copy-source'] !== undefined ||
      ctx.query.uploadId !== undefined
    )
      return next();
    const key = decodeURIComponent(ctx.path.slice(prefix.length));
    await turn(key, async () => {
      const exists = await access(store.getResourcePath(bucket, key, 'object')).then(
        () => true,
        () => false,
      );
      if (!exists) return next();
      ctx.status = 412;
      ctx.type = 'application/xml';
      ctx.body = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message><Condition>If-None-Match</Condition></Error>',
      ].join('\n');
    });
  };
};
