declare module '@20minutes/s3rver' {
  import type { AddressInfo } from 'node:net';
  import type { Readable } from 'node:stream';

  interface S3rverOptions {
    address?: string;
    port?: number;
    silent?: boolean;
    directory?: string;
    resetOnClose?: boolean;
    allowMismatchedSignatures?: boolean;
    vhostBuckets?: boolean;
    configureBuckets?: { name: string; configs?: string[] }[];
  }
  /** The filesystem store (lib/stores/filesystem.js), as far as local/ uses it. */
  interface FilesystemStore {
    getResourcePath(bucket: string, key: string | undefined, resource: string): string;
    deleteObject(bucket: string, key: string): Promise<void>;
    deleteBucket(bucket: string): Promise<void>;
    getSubresource(bucket: string, key: string | undefined, type: string): Promise<unknown>;
    putSubresource(
      bucket: string,
      key: string | undefined,
      resource: { type: string },
    ): Promise<void>;
    deleteSubresource(bucket: string, key: string | undefined, type: string): Promise<void>;
    /** Writes an object's bytes; answers [size, hex MD5]. */
    putContent(objectPath: string, content: Buffer | Readable): Promise<[number, string]>;
    /** Writes an object's metadata file, and its MD5 file when given one. */
    putMetadata(
      bucket: string,
      key: string,
      metadata: Record<string, unknown>,
      md5?: string,
    ): Promise<void>;
  }
  export default class S3rver {
    constructor(options: S3rverOptions);
    readonly store: FilesystemStore;
    run(): Promise<AddressInfo>;
    close(): Promise<void>;
  }
}
