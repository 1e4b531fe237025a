/**
 * A local S3 for the staged images: s3rver (the maintained @20minutes fork) speaks the S3 REST
 * API to the same @aws-sdk/client-s3 calls the Lambdas make in AWS; only the endpoint differs.
 * Objects live in the directory given (the runtime's state folder, so that they survive a
 * restart), or else in a temporary directory that goes away with the runtime.
 */
import { mkdir, mkdtemp, rm, unlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import S3rver from '@20minutes/s3rver';

/** s3rver's built-in credentials: requests must be signed with them. */
export const LOCAL_S3_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

/**
 * s3rver stores `a/b/key` as files in the directory a/b, and after a DELETE removes the
 * directories it left empty — recursively (`fs.rm(dir, { recursive: true })`), after an
 * emptiness check made earlier. A PUT into the same directory between the two (another
 * execution's image under `staging/`) lost its object: the PUT answered 200, the GET then
 * NoSuchKey. S3 has no directories to clean up; this DELETE removes the object's files only,
 * and the empty directories go with the temporary directory.
 */
const deleteWithoutPruning =
  (store: S3rver['store']) =>
  async (bucket: string, key: string): Promise<void> => {
    await Promise.all(
      ['object', 'object.md5', 'metadata.json'].map((resource) =>
        unlink(store.getResourcePath(bucket, key, resource)).catch(
          (error: NodeJS.ErrnoException) => {
            if (error.code !== 'ENOENT') throw error;
          },
        ),
      ),
    );
  };

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
  server.store.deleteObject = deleteWithoutPruning(server.store);
  const address = await server.run();
  return {
    url: `http://${options.host}:${address.port}`,
    close: async () => {
      await server.close();
      if (temporary) await rm(directory, { recursive: true, force: true });
    },
  };
};
