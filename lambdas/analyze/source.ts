import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { MapItem, StagedObject } from '../shared/workflow.ts';
import { StagedImageUnavailableError } from './errors.ts';

/** A byte range of a staged object: [offset, offset + size). */
export interface StagedRange {
  object: StagedObject;
  offset: number;
  size: number;
}

/** The bytes of a range of the request's staged object: one image's, or a chunk's run of
 * contiguous images. */
export const readStaged = async (
  { object, offset, size }: StagedRange,
  s3: S3Client,
): Promise<Uint8Array> => {
  // An empty upload has no range to read (S3 would answer 416); the analysis says EMPTY_IMAGE.
  if (size === 0) return new Uint8Array();
  try {
    const response = await s3.send(
      new GetObjectCommand({
        Bucket: object.bucket,
        Key: object.key,
        Range: `bytes=${offset}-${offset + size - 1}`,
      }),
    );
    if (!response.Body) throw new Error('empty response body');
    const bytes = await response.Body.transformToByteArray();
    if (bytes.length !== size) throw new Error(`read ${bytes.length} bytes of ${size}`);
    return bytes;
  } catch (error) {
    // The name of the S3 error (NoSuchKey, SlowDown, …) helps; its message may hold internals.
    throw new StagedImageUnavailableError(
      `The staged image could not be read: ${(error as Error).name}`,
      { cause: error },
    );
  }
};

/**
 * Consecutive items whose bytes follow each other in the same object, each group readable
 * with one GET: a chunk of analyze-batch is one such run; a Distributed Map's batch may hold
 * several (or items staged apart).
 */
export const contiguousRuns = (items: MapItem[]): MapItem[][] => {
  const runs: MapItem[][] = [];
  for (const item of items) {
    const run = runs.at(-1);
    const last = run?.at(-1);
    const follows =
      last !== undefined &&
      last.object.bucket === item.object.bucket &&
      last.object.key === item.object.key &&
      last.offset + last.size === item.offset;
    if (run && follows) run.push(item);
    else runs.push([item]);
  }
  return runs;
};

/** The range a run of contiguous items covers. */
export const spanOf = (run: MapItem[]): StagedRange => {
  const first = run[0];
  const last = run.at(-1);
  if (!first || !last) throw new Error('an empty run has no span');
  return {
    object: first.object,
    offset: first.offset,
    size: last.offset + last.size - first.offset,
  };
};
