/**
 * Execution inputs for the tests that start analyze-batch directly (the engine, the endpoint,
 * the console): the shape the ingest starts it with (lambdas/shared/workflow.ts), the images
 * one after another in one staged object, cut into chunks of consecutive images. The tests
 * choose the cut, so that they can make one chunk or many side by side; the ingest's own cut
 * (`chunksFor`) is tested in test/unit/staging.test.ts.
 */
import type {
  BatchRequest,
  Chunk,
  ChunkItem,
  ExecutionInput,
  StagedObject,
} from '../../lambdas/shared/workflow.ts';

export interface InputSpec {
  staged: StagedObject;
  /** Each image's size in bytes, in upload order. */
  sizes: number[];
  /** How many consecutive images each chunk holds, in order; one chunk of all by default. */
  chunks?: number[];
  filename?: (index: number) => string | null;
  contentType?: string | null;
  request?: BatchRequest;
}

export const chunkedInput = ({
  staged,
  sizes,
  chunks = [sizes.length],
  filename = (index) => `${index}.img`,
  contentType = null,
  request = { view: 'shape', multipart: true },
}: InputSpec): ExecutionInput => {
  if (chunks.reduce((a, b) => a + b, 0) !== sizes.length || chunks.some((n) => n < 1))
    throw new Error(`chunks ${JSON.stringify(chunks)} do not cut ${sizes.length} images`);
  let offset = 0;
  const items = sizes.map((size, index): ChunkItem => {
    offset += size;
    return {
      index,
      name: 'image',
      filename: filename(index),
      contentType,
      size,
      offset: offset - size,
    };
  });
  let start = 0;
  const cut = chunks.map((n): Chunk => {
    start += n;
    return { Items: items.slice(start - n, start) };
  });
  return { request, staged, deadline: null, chunks: cut };
};
