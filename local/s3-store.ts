/**
 * s3rver's file store and request chain with fewer round trips through libuv's thread pool and
 * less work per request, for the same objects on disk and the same answers — and with S3's
 * atomic writes of one key, which s3rver lacks. Each request to
 * the local S3 crosses them (a sync round trip makes a PUT, a GET and a DELETE), on the thread
 * that also runs the gateway and the Step Functions engine.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, rename, rmdir, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
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
 * Runs the work given under one id one at a time, in arrival order (here a key's PUTs, DELETEs
 * and reads: each sees the files — body, MD5, metadata — of one object whole, never two
 * writes' mix). A failed turn does not stop the next.
 */
export const oneAtATime = () => {
  const pending = new Map<string, Promise<unknown>>();
  return async <T>(id: string, work: () => Promise<T>): Promise<T> => {
    const turn = (pending.get(id) ?? Promise.resolve()).then(work);
    const settled = turn.catch(() => undefined);
    pending.set(id, settled);
    try {
      return await turn;
    } finally {
      if (pending.get(id) === settled) pending.delete(id);
    }
  };
};

const whole = async (content: Buffer | Readable) => {
  if (Buffer.isBuffer(content)) return content;
  const chunks: Buffer[] = [];
  for await (const chunk of content) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
};

const ignoreMissing = (error: NodeJS.ErrnoException) => {
  if (error.code !== 'ENOENT') throw error;
};

/** The three files of an object, as s3rver names them. */
const filesOf = (store: Store, bucket: string, key: string) =>
  ['object', 'object.md5', 'metadata.json'].map((resource) =>
    store.getResourcePath(bucket, key, resource),
  ) as [string, string, string];

/**
 * S3 answers a GET with the old object or the new one, whole, never a mix: "updates to a
 * single key are atomic" (https://docs.aws.amazon.com/AmazonS3/latest/userguide/Welcome.html#ConsistencyModel).
 * s3rver rewrote an object's file in place while a GET could read it, then its MD5 and its
 * metadata one after the other. Here a PUT takes the upload whole (before its turn: a slow
 * client holds up no one), writes the three files under temporary names beside them, and
 * renames them into place in its key's turn; a GET reads the metadata and opens the body in
 * its turn, so the bytes it streams (an open file survives its replacement) are the ones its
 * ETag and length describe. A DELETE removes the three files in its turn, then the
 * directories it left empty (`rmdir`, which fails on a directory that is not: a PUT's
 * temporary file keeps its directory, and a PUT that finds its directory gone makes it again).
 * s3rver's own pruning (an emptiness check, then `rm -r`) lost a concurrent PUT's object.
 */
const writeObjectsAtomically = (store: Store) => {
  const turn = oneAtATime();
  // Unbound: s3rver's getObject reads the metadata through `this`, which inside a turn must be
  // the store's own getMetadata (waiting for a second turn of the same key would never end).
  const { getObject, getMetadata } = Object.getPrototypeOf(store) as Store;
  const inTurn = Object.assign(Object.create(store) as Store, { getMetadata });
  const bucketOf = (bucket: string) => path.dirname(store.getResourcePath(bucket, '', 'object'));

  store.getObject = (bucket, key, options) =>
    turn(filesOf(store, bucket, key)[0], () => getObject.call(inTurn, bucket, key, options));
  store.getMetadata = (bucket, key) =>
    turn(filesOf(store, bucket, key)[0], () => getMetadata.call(store, bucket, key));

  store.putObject = async ({ bucket, key, content, metadata }) => {
    const body = await whole(content);
    const md5 = createHash('md5').update(body).digest('hex');
    // What s3rver's putMetadata keeps: the object's metadata without the intrinsic fields.
    const { etag: _, 'last-modified': __, 'content-length': ___, ...stored } = metadata;
    const files = filesOf(store, bucket, key);
    const texts = [body, md5, JSON.stringify(stored, null, 2)] as const;
    const temporary = files.map((file) => `${file}.${randomUUID()}.tmp`);
    await turn(files[0], async () => {
      for (let attempt = 1; ; attempt++) {
        await mkdir(path.dirname(files[0]), { recursive: true });
        try {
          await Promise.all(temporary.map((file, i) => writeFile(file, texts[i] ?? '')));
          break;
        } catch (error) {
          await Promise.all(temporary.map((file) => unlink(file).catch(ignoreMissing)));
          // A DELETE pruned the directory between the mkdir and the writes: make it again.
          if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || attempt === 5) throw error;
        }
      }
      await Promise.all(temporary.map((file, i) => rename(file, files[i] ?? file)));
    });
    return { size: body.length, md5 };
  };

  store.deleteObject = async (bucket, key) => {
    const files = filesOf(store, bucket, key);
    await turn(files[0], () => Promise.all(files.map((file) => unlink(file).catch(ignoreMissing))));
    const root = bucketOf(bucket);
    for (let dir = path.dirname(files[0]); dir.startsWith(`${root}${path.sep}`); ) {
      try {
        await rmdir(dir);
      } catch {
        break; // not empty (another key, a PUT on its way), or already gone
      }
      dir = path.dirname(dir);
    }
  };
};

/** Multipart parts are streamed by s3rver chunk by chunk; here each is written with one call. */
const writePartsWhole = (store: Store) => {
  store.putContent = async (objectPath, content) => {
    const body = await whole(content);
    await writeFile(objectPath, body);
    return [body.length, createHash('md5').update(body).digest('hex')];
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
  writeObjectsAtomically(server.store);
  writePartsWhole(server.store);
  withoutRequestLog(server);
};
