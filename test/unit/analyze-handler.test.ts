import { GetObjectCommand, NoSuchKey, S3Client } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import {
  analyzeItem,
  analyzeItems,
  CHUNK_CONCURRENCY,
  concurrencyFor,
} from '../../lambdas/analyze/analyze-item.ts';
import { createHandler } from '../../lambdas/analyze/handler.ts';
import { createLogger } from '../../lambdas/shared/logger.ts';
import type { MapItem } from '../../lambdas/shared/workflow.ts';
import { fixtureImage } from '../support/fixtures.ts';
import { jsonLines, useCapturedOutput } from '../support/output.ts';

const cat = fixtureImage('photo_400x600.jpg');
const gray = fixtureImage('gray_300x200.jpg');
/** The request's staged object: gray, then cat. */
const object = Buffer.concat([gray, cat]);
const item = (overrides: Partial<MapItem> = {}): MapItem => ({
  index: 3,
  name: 'image',
  filename: 'cat.jpg',
  contentType: 'image/jpeg',
  size: cat.length,
  object: { bucket: 'b', key: 'staging/e/images' },
  offset: gray.length,
  deadline: null,
  ...overrides,
});
const s3Mock = mockClient(S3Client);
const s3 = new S3Client({ region: 'us-east-1' });
const written = useCapturedOutput();

/** Answers a ranged GET as S3 does: the bytes of the range, inclusive. */
beforeEach(() => {
  s3Mock.reset();
  s3Mock.on(GetObjectCommand).callsFake(async (input: { Key: string; Range?: string }) => {
    if (input.Key !== 'staging/e/images') throw new NoSuchKey({ message: 'gone', $metadata: {} });
    const [, start, end] = /^bytes=(\d+)-(\d+)$/.exec(input.Range ?? '') ?? [];
    const bytes = object.subarray(Number(start), Number(end) + 1);
    return { Body: { transformToByteArray: async () => new Uint8Array(bytes) } };
  });
});

describe('how many images an invocation analyzes at once', () => {
  it('overlaps the images of a request chunk, whose pixels the ingest capped', () => {
    const chunk = [0, 1, 2, 3, 4, 5].map((index) =>
      item({ index, size: 10, offset: 100 + index * 10 }),
    );
    expect(concurrencyFor(chunk)).toBe(CHUNK_CONCURRENCY);
    expect(concurrencyFor(chunk.slice(0, 2))).toBe(2);
  });

  it('takes a large batch’s uploads, one object each and unbounded in pixels, one at a time', () => {
    const uploads = [0, 1, 2, 3].map((index) =>
      item({ index, object: { bucket: 'b', key: `batches/x/uploads/${index}` }, offset: 0 }),
    );
    expect(concurrencyFor(uploads)).toBe(1);
  });
});

describe('analyzeItem', () => {
  it('reads its byte range of the staged object, analyzes it and keeps the identity', async () => {
    const record = await analyzeItem(item(), { s3 });
    expect(record).toMatchObject({
      index: 3,
      name: 'image',
      filename: 'cat.jpg',
      contentType: 'image/jpeg',
      shape: [600, 400, 3],
      nbytes: 720,
      bytes: cat.length,
    });
    expect(s3Mock.commandCalls(GetObjectCommand)[0]?.args[0].input).toEqual({
      Bucket: 'b',
      Key: 'staging/e/images',
      Range: `bytes=${gray.length}-${gray.length + cat.length - 1}`,
    });
  });

  it('reads nothing for an empty upload, which the analysis calls empty', async () => {
    const record = await analyzeItem(item({ size: 0, offset: 0 }), { s3 });
    expect(record).toMatchObject({ index: 3, error: { code: 'EMPTY_IMAGE' } });
    expect(s3Mock.commandCalls(GetObjectCommand)).toHaveLength(0);
  });

  it('throws StagedImageUnavailable when the store fails, for the workflow to retry', async () => {
    const gone = item({ object: { bucket: 'b', key: 'staging/gone/images' } });
    await expect(analyzeItem(gone, { s3 })).rejects.toMatchObject({
      name: 'StagedImageUnavailable',
      message: 'The staged image could not be read: NoSuchKey',
    });
  });

  it('throws StagedImageUnavailable when the store returns fewer bytes than the range', async () => {
    const past = item({ offset: object.length - 10, size: 20 });
    await expect(analyzeItem(past, { s3 })).rejects.toMatchObject({
      name: 'StagedImageUnavailable',
    });
  });

  it('skips an image past its deadline without reading it', async () => {
    const record = await analyzeItem(item({ deadline: 1_000 }), { s3, now: () => 2_000 });
    expect(record).toEqual({
      index: 3,
      name: 'image',
      filename: 'cat.jpg',
      contentType: 'image/jpeg',
      bytes: cat.length,
      error: { code: 'DEADLINE_EXCEEDED', message: expect.any(String), retryable: true },
    });
    expect(s3Mock.commandCalls(GetObjectCommand)).toHaveLength(0);
  });

  it('analyzes an image whose deadline is still ahead', async () => {
    const record = await analyzeItem(item({ deadline: 3_000 }), { s3, now: () => 2_000 });
    expect(record).toMatchObject({ shape: [600, 400, 3] });
  });
});

describe('analyzeItems (a chunk)', () => {
  /** The staged object's two images as one chunk: gray at 0, cat after it. */
  const chunk = () => [
    item({ index: 0, filename: 'gray.jpg', offset: 0, size: gray.length }),
    item({ index: 1 }),
  ];

  it('reads the whole chunk with one GET and answers one record per image, in order', async () => {
    const records = await analyzeItems(chunk(), { s3 });
    expect(records).toEqual([
      expect.objectContaining({ index: 0, filename: 'gray.jpg', shape: [200, 300] }),
      expect.objectContaining({ index: 1, filename: 'cat.jpg', shape: [600, 400, 3] }),
    ]);
    const gets = s3Mock.commandCalls(GetObjectCommand).map((c) => c.args[0].input.Range);
    expect(gets).toEqual([`bytes=0-${object.length - 1}`]);
  });

  it('reads items that do not follow each other with one GET per contiguous run', async () => {
    const apart = [item(), item({ index: 4, filename: 'gray.jpg', offset: 0, size: gray.length })];
    const records = await analyzeItems(apart, { s3 });
    expect(records.map((r) => r.index)).toEqual([3, 4]);
    expect(s3Mock.commandCalls(GetObjectCommand)).toHaveLength(2);
  });

  it('skips the images past their deadline, checked before each one, and reads nothing for them', async () => {
    let clock = 1_000;
    // The first analysis takes the clock past the deadline: the second image is skipped.
    const now = () => (clock += 600);
    const items = chunk().map((i) => ({ ...i, deadline: 2_000 }));
    const records = await analyzeItems(items, { s3, now });
    expect(records[0]).toMatchObject({ index: 0, shape: [200, 300] });
    expect(records[1]).toMatchObject({
      index: 1,
      error: { code: 'DEADLINE_EXCEEDED', retryable: true },
    });
    const late = await analyzeItems(items, { s3, now: () => 3_000 });
    expect(late.map((r) => 'error' in r && r.error.code)).toEqual([
      'DEADLINE_EXCEEDED',
      'DEADLINE_EXCEEDED',
    ]);
    expect(s3Mock.commandCalls(GetObjectCommand)).toHaveLength(1);
  });

  it('throws StagedImageUnavailable for the whole chunk when its read fails, for the workflow to retry', async () => {
    const gone = chunk().map((i) => ({
      ...i,
      object: { bucket: 'b', key: 'staging/gone/images' },
    }));
    await expect(analyzeItems(gone, { s3 })).rejects.toMatchObject({
      name: 'StagedImageUnavailable',
    });
  });

  it('answers a chunk holding an empty upload, which the analysis calls empty', async () => {
    const items = [
      item({ index: 0, size: 0, offset: 0 }),
      ...chunk().map((i) => ({ ...i, index: i.index + 1 })),
    ];
    const records = await analyzeItems(items, { s3 });
    expect(records.map((r) => ('error' in r ? r.error.code : r.shape))).toEqual([
      'EMPTY_IMAGE',
      [200, 300],
      [600, 400, 3],
    ]);
    expect(s3Mock.commandCalls(GetObjectCommand)).toHaveLength(1);
  });
});

/** A chunk as analyze-batch's ItemSelector hands it: items without object or deadline, which
 * the BatchInput names once, with the request's view. */
const chunkEvent = (view: 'shape' | 'nbytes' | 'analyze', deadline: number | null = null) => ({
  Items: [
    {
      index: 0,
      name: 'image',
      filename: 'gray.jpg',
      contentType: null,
      size: gray.length,
      offset: 0,
    },
    {
      index: 1,
      name: 'image',
      filename: 'cat.jpg',
      contentType: null,
      size: cat.length,
      offset: gray.length,
    },
    {
      index: 2,
      name: 'image',
      filename: 'empty',
      contentType: null,
      size: 0,
      offset: object.length,
    },
  ],
  BatchInput: { view, object: { bucket: 'b', key: 'staging/e/images' }, deadline },
});

describe('analyze handler', () => {
  const handler = createHandler({ s3, logger: createLogger('image-analyze') });
  const context = { functionName: 'analyze', awsRequestId: 'req-1' } as Context;

  it('answers a Map item with its record through the middy chain', async () => {
    const record = await handler(item(), context);
    expect(record).toMatchObject({ index: 3, format: 'jpeg', shape: [600, 400, 3] });
  });

  it('answers an ItemBatcher batch with one record per item, in order', async () => {
    const records = await handler(
      {
        Items: [item({ index: 4, filename: 'gray.jpg', offset: 0, size: gray.length }), item()],
        BatchInput: {},
      },
      context,
    );
    expect(records).toEqual([
      expect.objectContaining({ index: 4, shape: [200, 300] }),
      expect.objectContaining({ index: 3, shape: [600, 400, 3] }),
    ]);
  });

  it('answers a chunk with records cut to what its view renders, errors kept whole', async () => {
    const empty = { code: 'EMPTY_IMAGE', message: expect.any(String) };
    expect(await handler(chunkEvent('shape'), context)).toEqual([
      { index: 0, shape: [200, 300] },
      { index: 1, shape: [600, 400, 3] },
      { index: 2, error: empty },
    ]);
    expect(await handler(chunkEvent('nbytes'), context)).toEqual([
      { index: 0, nbytes: 60 },
      { index: 1, nbytes: 720 },
      { index: 2, error: empty },
    ]);
    expect(s3Mock.commandCalls(GetObjectCommand)[0]?.args[0].input).toEqual({
      Bucket: 'b',
      Key: 'staging/e/images',
      Range: `bytes=0-${object.length - 1}`,
    });
  });

  it('answers a chunk for /analyze with full records', async () => {
    const [gray, cat] = (await handler(chunkEvent('analyze'), context)) as object[];
    expect(gray).toMatchObject({ index: 0, name: 'image', filename: 'gray.jpg', format: 'jpeg' });
    expect(cat).toMatchObject({ index: 1, mode: 'RGB', shape: [600, 400, 3], bytes: 45365 });
  });

  it('fails the invocation when neither a chunk nor its items name a staged object', async () => {
    const { Items } = chunkEvent('shape');
    await expect(handler({ Items, BatchInput: { view: 'shape' } }, context)).rejects.toThrow(
      'Image 0 names no staged object',
    );
    expect(s3Mock.commandCalls(GetObjectCommand)).toHaveLength(0);
  });

  it("skips a chunk's images once its deadline has passed", async () => {
    const records = (await handler(chunkEvent('shape', Date.now() - 1), context)) as object[];
    expect(records.map((r) => 'error' in r && (r.error as { code: string }).code)).toEqual([
      'DEADLINE_EXCEEDED',
      'DEADLINE_EXCEEDED',
      'DEADLINE_EXCEEDED',
    ]);
    expect(s3Mock.commandCalls(GetObjectCommand)).toHaveLength(0);
  });
});

describe('what the analyzer logs', () => {
  /** The handler with a logger at INFO, as deployed (tests run at SILENT). */
  const logging = () => {
    vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'INFO');
    const logger = createLogger('image-analyze');
    vi.unstubAllEnvs();
    return createHandler({ s3, logger });
  };
  const executionArn = 'arn:aws:states:us-east-1:000000000000:express:ImageBatchSync:e:r';
  const context = {
    functionName: 'image-analyze',
    awsRequestId: 'req-2',
    clientContext: { custom: { executionArn } },
  } as unknown as Context;
  const lines = () => jsonLines(written);

  it('writes one line for a chunk that names every image by index, its format or its failure in full', async () => {
    const handler = logging();
    written.length = 0;
    await handler(chunkEvent('shape'), context);

    const [line, ...others] = lines();
    expect(others).toEqual([]);
    expect(line).toMatchObject({
      level: 'INFO',
      message: 'chunk analyzed',
      function_request_id: 'req-2',
      executionArn,
      images: 3,
      bytes: object.length,
      analyzed: { jpeg: [0, 1] },
      failed: [{ index: 2, bytes: 0, error: { code: 'EMPTY_IMAGE', message: expect.any(String) } }],
    });
    expect(line?.durationMs).toEqual(expect.any(Number));
    expect(line?.msPerImage).toBe(Math.round((line?.durationMs as number) / 3));
    // References, not bytes: no stretch of either image's base64 is in it.
    const text = written.join('');
    for (const image of [gray, cat])
      expect(text).not.toContain(image.toString('base64').slice(100, 140));
  });

  it('writes one line for a Map item too, its image alone in it', async () => {
    const handler = logging();
    written.length = 0;
    await handler(item(), context);
    expect(lines()).toMatchObject([
      {
        message: 'chunk analyzed',
        images: 1,
        bytes: cat.length,
        analyzed: { jpeg: [3] },
        failed: [],
      },
    ]);
  });
});
