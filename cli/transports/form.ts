/**
 * One multipart/form-data body for a set of files, one `image` part each, in order, encoded by
 * the platform's FormData — plus where each part ends, so upload progress can count images as
 * well as bytes.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { InputFile } from '../files.ts';

/** Part content types by extension, as curl's `-F image=@file` sends them; the service sniffs
 * the bytes anyway and only reports this one back (`contentType` in `/analyze`). */
const MEDIA_TYPES: Record<string, string> = {
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.tif': 'image/tiff',
  '.tiff': 'image/tiff',
  '.avif': 'image/avif',
  '.bmp': 'image/bmp',
};

export const mediaTypeOf = (file: string) =>
  MEDIA_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';

/** Runs `task` over `items` with at most `limit` at once; results in the items' order. */
export const mapLimit = async <T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<R>,
): Promise<R[]> => {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await task(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
};

export interface EncodedForm {
  body: Uint8Array;
  contentType: string;
  /** Byte offset at which part i is wholly sent. */
  partEnds: number[];
}

export const encodeForm = async (
  files: readonly InputFile[],
  { concurrency }: { concurrency: number },
): Promise<EncodedForm> => {
  const contents = await mapLimit(files, concurrency, (f) => readFile(f.path));
  const form = new FormData();
  files.forEach((f, i) => {
    const bytes = contents[i] as Buffer;
    form.append(
      'image',
      new Blob([new Uint8Array(bytes)], { type: mediaTypeOf(f.file) }),
      path.basename(f.file),
    );
  });
  const request = new Request('http://form.invalid/', { method: 'POST', body: form });
  const body = Buffer.from(await request.arrayBuffer());
  const contentType = request.headers.get('content-type') ?? '';
  const boundary = /boundary=(.+)$/.exec(contentType)?.[1] ?? '';
  // Every part after the first starts with CRLF--boundary, as does the closing delimiter.
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  const partEnds: number[] = [];
  for (let at = body.indexOf(delimiter); at !== -1; at = body.indexOf(delimiter, at + 1)) {
    partEnds.push(at);
  }
  return { body, contentType, partEnds: partEnds.slice(0, files.length) };
};

/** How many parts are wholly within the first `sent` bytes. */
export const partsSent = (partEnds: readonly number[], sent: number) => {
  let n = 0;
  while (n < partEnds.length && (partEnds[n] ?? Infinity) <= sent) n++;
  return n;
};
