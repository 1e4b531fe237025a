/**
 * s3rver's file store and request chain with fewer round trips through libuv's thread pool and
 * less work per request, for the same objects on disk and the same answers. Each request to
 * the local S3 crosses them (a sync round trip makes a PUT, a GET and a DELETE), on the thread
 * that also runs the gateway and the Step Functions engine.
 */
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type S3rver from '@20minutes/s3rver';

type Store = S3rver['store'];

/**
 * s3rver reads the bucket's CORS and website configurations from their files on every request
 * (two failed opens: the staging bucket has neither). They change only through s3rver's own
 * Put/DeleteBucketCors and …Website calls, which write through this same store: each is read
 * once per bucket and forgotten when one of those calls, or a bucket's deletion, changes it.
 * Object-level subresources (tagging) are read as before.
 */
const rememberBucketConfigs = (store: Store) => {
  const known = new Map<string, Promise<unknown>>();
  const id = (bucket: string, type: string) => `${bucket}\0${type}`;
  const get = store.getSubresource.bind(store);
  const put = store.putSubresource.bind(store);
  const remove = store.deleteSubresource.bind(store);
  const deleteBucket = store.deleteBucket.bind(store);
  store.getSubresource = (bucket, key, type) => {
    if (key !== undefined) return get(bucket, key, type);
    let config = known.get(id(bucket, type));
    if (!config) {
      config = get(bucket, key, type);
      known.set(id(bucket, type), config);
      config.catch(() => known.delete(id(bucket, type)));
    }
    return config;
  };
  store.putSubresource = async (bucket, key, resource) => {
    known.delete(id(bucket, resource.type));
    try {
      return await put(bucket, key, resource);
    } finally {
      known.delete(id(bucket, resource.type));
    }
  };
  store.deleteSubresource = async (bucket, key, type) => {
    known.delete(id(bucket, type));
    try {
      return await remove(bucket, key, type);
    } finally {
      known.delete(id(bucket, type));
    }
  };
  store.deleteBucket = async (bucket) => {
    try {
      return await deleteBucket(bucket);
    } finally {
      for (const entry of known.keys()) if (entry.startsWith(`${bucket}\0`)) known.delete(entry);
    }
  };
};

/**
 * s3rver streams an upload to its file chunk by chunk (a thread-pool round trip each), then
 * writes the object's MD5 and its metadata one after the other. Here the body is taken whole
 * and written with one call, and the MD5 and the metadata are written side by side: the same
 * three files, whose writes are over when the PUT answers (s3rver answered a Buffer body
 * before its write was done).
 */
const writeObjectsWhole = (store: Store) => {
  const putMetadata = store.putMetadata.bind(store);
  store.putContent = async (objectPath: string, content: Buffer | Readable) => {
    let body: Buffer;
    if (Buffer.isBuffer(content)) body = content;
    else {
      const chunks: Buffer[] = [];
      for await (const chunk of content) chunks.push(chunk as Buffer);
      body = Buffer.concat(chunks);
    }
    await writeFile(objectPath, body);
    return [body.length, createHash('md5').update(body).digest('hex')];
  };
  store.putMetadata = async (bucket, key, metadata, md5) => {
    await Promise.all([
      md5 && writeFile(store.getResourcePath(bucket, key, 'object.md5'), md5),
      putMetadata(bucket, key, metadata),
    ]);
  };
};

/** s3rver formats a line per request even when started `silent` (koa-logger ahead of a
 * silenced logger): that middleware goes; s3rver's own error logging stays. */
const withoutRequestLog = (server: S3rver) => {
  const middleware = (server as unknown as { middleware: { name: string }[] }).middleware;
  const at = middleware.findIndex((m) => m.name === 'logger');
  if (at >= 0) middleware.splice(at, 1);
};

export const tuneLocalS3 = (server: S3rver) => {
  rememberBucketConfigs(server.store);
  writeObjectsWhole(server.store);
  withoutRequestLog(server);
};
