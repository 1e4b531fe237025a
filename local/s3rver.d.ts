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
    /** The object's metadata and, when its range is satisfiable, a stream of its bytes, opened;
     * null when there is no such key. */
    getObject(
      bucket: string,
      key: string,
      options?: { start?: number; end?: number },
    ): Promise<unknown>;
    /** Its stored metadata plus etag, last-modified and content-length, from its files. */
    getMetadata(bucket: string, key: string): Promise<Record<string, unknown>>;
    /** Writes an object (an S3Object: its metadata already filtered to what S3 keeps). */
    putObject(object: {
      bucket: string;
      key: string;
      content: Buffer | Readable;
      metadata: Record<string, unknown>;
    }): Promise<{ size: number; md5: string }>;
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
