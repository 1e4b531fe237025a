/**
 * Staging: a request's images are written to the staging bucket once, as one object (the
 * images one after another), and the workflow carries only the key and each image's byte
 * range. One PUT per request rather than per image: S3 bills a PUT more than the rest of an
 * image's way through the service. Keys are unguessable (the execution name is a random UUID)
 * and scoped to one execution; the workflow deletes the object once every image is analyzed,
 * and the bucket's lifecycle rule removes anything a failed run left behind.
 */
import { DeleteObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Chunk, ChunkItem, StagedObject } from '../shared/workflow.ts';
import type { Upload } from './uploads.ts';

export const STAGING_PREFIX = 'staging/';

export const stagingKey = (executionName: string) => `${STAGING_PREFIX}${executionName}/images`;

/** The items of a batch: identity, size and where in the staged object each image is (the
 * object itself, and the deadline, are named once for all: see ExecutionInput). */
export const itemsFor = (uploads: Upload[]): ChunkItem[] => {
  let offset = 0;
  return uploads.map((upload, index) => {
    const item: ChunkItem = {
      index,
      name: upload.name,
      filename: upload.filename,
      contentType: upload.contentType,
      size: upload.content.length,
      offset,
    };
    offset += upload.content.length;
    return item;
  });
};

/**
 * How much one chunk (one analysis invocation, one ranged GET) may hold. Images: the
 * workflow's fixed costs (an invocation, a GET, a handful of logged events and transitions)
 * are paid once per chunk, so a whole small batch is one chunk (10 images: 0.1 invocation
 * and GET per image, from 1), and the largest sync request (50) still runs as two invocations
 * side by side; past ten or so images a chunk's fixed costs are already shared, so a larger
 * cap would save little. Pixels: what bounds the decoding work (the function has one vCPU),
 * so a chunk of large images stays far within the Lambda's 30 s and API Gateway's 29 s —
 * 50 MP is four 12 MP photos, about 0.1 s of validation — and a request's heavy images are
 * spread over parallel invocations. Bytes: one GET, and memory, stay moderate.
 */
export const CHUNK_LIMITS = { images: 25, pixels: 50_000_000, bytes: 4 * 1024 * 1024 };

/**
 * Cuts the items, in order, into chunks within the limits (greedily: an image that does not
 * fit starts the next chunk; one image past a limit is a chunk of its own). `pixels[i]` is
 * what image i declares in its header, 0 when unknown (such an image counts by its bytes).
 */
export const chunksFor = (
  items: ChunkItem[],
  pixels: number[],
  limits: typeof CHUNK_LIMITS = CHUNK_LIMITS,
): Chunk[] => {
  const chunks: Chunk[] = [];
  let current: ChunkItem[] = [];
  let chunkPixels = 0;
  let chunkBytes = 0;
  items.forEach((item, i) => {
    const itemPixels = pixels[i] ?? 0;
    const full =
      current.length >= limits.images ||
      chunkPixels + itemPixels > limits.pixels ||
      chunkBytes + item.size > limits.bytes;
    if (current.length > 0 && full) {
      chunks.push({ Items: current });
      current = [];
      chunkPixels = 0;
      chunkBytes = 0;
    }
    current.push(item);
    chunkPixels += itemPixels;
    chunkBytes += item.size;
  });
  if (current.length > 0) chunks.push({ Items: current });
  return chunks;
};

/** Writes the request's images as one object, encrypted at rest (SSE-S3). */
export const stageImages = async (s3: S3Client, staged: StagedObject, uploads: Upload[]) => {
  await s3.send(
    new PutObjectCommand({
      Bucket: staged.bucket,
      Key: staged.key,
      Body: Buffer.concat(uploads.map((u) => u.content)),
      ContentType: 'application/octet-stream',
      ServerSideEncryption: 'AES256',
    }),
  );
};

/** Removes the staged images when no workflow will (it did not start, failed, or was given
 * up on). Never throws: the lifecycle rule is the backstop. */
export const discardStaged = async (s3: S3Client, staged: StagedObject) => {
  try {
    await s3.send(new DeleteObjectCommand({ Bucket: staged.bucket, Key: staged.key }));
    return { deleted: true };
  } catch (error) {
    return { deleted: false, error };
  }
};
