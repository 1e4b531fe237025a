/**
 * The large-batch API end to end on the local runtime (`npm start`), over real HTTP: a batch
 * declared with POST /batches, its images uploaded straight to the local S3 by the presigned
 * POST forms (whose policy the local S3 enforces as S3 does), started, followed to SUCCEEDED
 * through the Map Run, and its results paged and compared with what POST /analyze answers for
 * the same images.
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { DescribeMapRunCommand, ListExecutionsCommand } from '@aws-sdk/client-sfn';
import { beforeAll, describe, expect, it } from 'vitest';
import { declarationGroups, PUBLISHED_LIMITS } from '../../cli/limits.ts';
import { createS3Client, createSfnClient } from '../../lambdas/shared/clients.ts';
import { fixtureExpected, fixtureImage } from '../support/fixtures.ts';
import {
  type Answer,
  get,
  postImages,
  postToForm,
  settled,
  type UploadForm,
} from '../support/http.ts';
import { useLocalRuntime } from '../support/runtime.ts';

// Not the default share (10, as many as the 1,000-image batch has children): the Map Run must
// take the ingest's LARGE_BATCH_MAX_CONCURRENCY for its children to wait.
const CHILD_BATCHES_AT_ONCE = 4;
const local = useLocalRuntime({ ingest: { largeBatchMaxConcurrency: CHILD_BATCHES_AT_ONCE } });
let s3: S3Client;
beforeAll(() => {
  s3 = createS3Client(local.runtime.clientOptions.s3);
});

const TYPES: Record<string, string> = {
  jpg: 'image/jpeg',
  png: 'image/png',
  gif: 'image/gif',
  webp: 'image/webp',
};
// Our fixtures but the 12 MP one (its decoding would dominate 1,000 images on a shared machine).
const FIXTURES = fixtureExpected()
  .map(([name]) => name)
  .filter((name) => name !== 'rgb_4000x3000.jpg')
  .map((name) => ({
    name,
    bytes: fixtureImage(name),
    type: TYPES[name.split('.').at(-1) ?? ''] ?? 'application/octet-stream',
  }));
const IMAGES = 1000;
const fixtureAt = (index: number) => FIXTURES[index % FIXTURES.length] as (typeof FIXTURES)[number];

const postJson = async (
  url: string,
  body: unknown,
  contentType = 'application/json',
): Promise<Answer> => {
  const res = await fetch(url, {
    method: 'POST',
    body: typeof body === 'string' ? body : JSON.stringify(body),
    headers: { 'content-type': contentType },
  });
  return { status: res.status, headers: res.headers, body: await res.json() };
};

/** The most executions running at one moment, from their start and stop dates; a stop and a
 * start in the same millisecond do not overlap (a freed slot is taken at once). */
const mostAtOnce = (runs: { startDate?: Date; stopDate?: Date }[]) => {
  const moments = runs
    .flatMap((run) => [
      { at: run.startDate?.getTime() ?? 0, change: 1 },
      { at: run.stopDate?.getTime() ?? Number.POSITIVE_INFINITY, change: -1 },
    ])
    .sort((a, b) => a.at - b.at || a.change - b.change);
  let running = 0;
  let most = 0;
  for (const { change } of moments) {
    running += change;
    most = Math.max(most, running);
  }
  return most;
};

/** A large batch runs for seconds: polled every 250 ms, bounded by the test's own timeout. */
const settle = (url: string) => settled(url, { everyMs: 250, tries: Number.POSITIVE_INFINITY });

describe('a large batch through the /batches API', () => {
  let batchId: string;
  let forms: UploadForm[] = [];
  const missing = IMAGES; // declared, never uploaded
  const oversized = IMAGES + 1; // its upload is larger than declared

  it('answers 201 with presigned POST forms, paged 500 at a time', async () => {
    const images = [...Array(IMAGES).keys()].map((index) => {
      const f = fixtureAt(index);
      return { filename: f.name, contentType: f.type, bytes: f.bytes.length };
    });
    images.push({ filename: 'never.png', contentType: 'image/png', bytes: 100 });
    images.push({ filename: 'bigger.png', contentType: 'image/png', bytes: 100 });
    const created = await postJson(`${local.api}/batches`, { view: 'analyze', images });
    expect(created.status).toBe(201);
    const body = created.body as {
      batchId: string;
      expiresAt: string;
      uploads: UploadForm[];
      nextUploads: string;
      start: string;
    };
    batchId = body.batchId;
    expect(created.headers.get('location')).toBe(`/batches/${batchId}`);
    expect(body.start).toBe(`/batches/${batchId}/start`);
    expect(Date.parse(body.expiresAt) - Date.now()).toBeGreaterThan(14 * 60_000);
    expect(body.uploads).toHaveLength(500);
    forms = [...body.uploads];
    let next: string | null = body.nextUploads;
    while (next) {
      const page = await get(`${local.api}${next}`);
      expect(page.status).toBe(200);
      const { uploads, nextCursor } = page.body as {
        uploads: UploadForm[];
        nextCursor: string | null;
      };
      forms.push(...uploads);
      next = nextCursor === null ? null : `/batches/${batchId}/uploads?cursor=${nextCursor}`;
    }
    expect(forms.map((f) => f.index)).toEqual([...Array(IMAGES + 2).keys()]);
    expect(forms[0]?.url).toBe(`${local.runtime.s3Url}/${local.runtime.stagingBucket}`);
    expect(forms[0]?.fields.key).toBe(`batches/${batchId}/uploads/0`);
  });

  it('lets S3 refuse an upload larger than declared, of another type, or to another key', async () => {
    const form = forms[oversized] as UploadForm;
    const big = await postToForm(form, Buffer.alloc(101), 'image/png');
    expect(big.status).toBe(400);
    expect(big.text).toContain('<Code>EntityTooLarge</Code>');
    const small = await postToForm(form, Buffer.alloc(99), 'image/png');
    expect(small.status).toBe(400);
    expect(small.text).toContain('<Code>EntityTooSmall</Code>');
    const retyped = await postToForm(form, Buffer.alloc(100), 'text/html', {
      'Content-Type': 'text/html',
    });
    expect(retyped.status).toBe(403);
    expect(retyped.text).toContain('Policy Condition failed');
    const moved = await postToForm(form, Buffer.alloc(100), 'image/png', {
      key: `batches/${batchId}/uploads/0`,
    });
    expect(moved.status).toBe(403);
    const forged = await postToForm(form, Buffer.alloc(100), 'image/png', {
      'X-Amz-Signature': '0'.repeat(64),
    });
    expect(forged.status).toBe(403);
    expect(forged.text).toContain('<Code>SignatureDoesNotMatch</Code>');
  });

  it('takes the 1,000 uploads the forms allow', async () => {
    const queue = forms.slice(0, IMAGES);
    await Promise.all(
      [...Array(16)].map(async () => {
        for (let form = queue.shift(); form; form = queue.shift()) {
          const f = fixtureAt(form.index);
          const res = await postToForm(form, f.bytes, f.type);
          expect(res.status, res.text).toBe(204);
        }
      }),
    );
  }, 120_000);

  it('starts the batch once, however many times it is asked', async () => {
    const first = await postJson(`${local.api}/batches/${batchId}/start`, '');
    expect(first.status).toBe(202);
    expect(first.headers.get('location')).toBe(`/batches/${batchId}`);
    expect(first.body).toEqual({
      batchId,
      executionArn: `${local.runtime.stateMachineArns.largeBatch.replace(':stateMachine:', ':execution:')}:${batchId}`,
      status: 'RUNNING',
    });
    const again = await postJson(`${local.api}/batches/${batchId}/start`, '');
    expect(again.status).toBe(202);
    expect((again.body as { executionArn: string }).executionArn).toBe(
      (first.body as { executionArn: string }).executionArn,
    );
  });

  it('follows the run to SUCCEEDED with the Map Run counting images', async () => {
    const done = await settle(`${local.api}/batches/${batchId}`);
    expect(done.status).toBe(200);
    expect(done.body).toEqual({
      batchId,
      status: 'SUCCEEDED',
      executionArn: expect.stringContaining(batchId),
      mapRunArn: expect.stringMatching(/:mapRun:ImageBatchLarge\/Images:/),
      progress: {
        total: IMAGES,
        succeeded: IMAGES,
        failed: 0,
        pending: 0,
        running: 0,
        notUploaded: 2,
      },
      startDate: expect.any(String),
      stopDate: expect.any(String),
    });
  }, 180_000);

  it('runs at most LARGE_BATCH_MAX_CONCURRENCY child batches at once', async () => {
    const { mapRunArn } = (await get(`${local.api}/batches/${batchId}`)).body as {
      mapRunArn: string;
    };
    const sfn = createSfnClient(local.runtime.clientOptions.sfn);
    const mapRun = await sfn.send(new DescribeMapRunCommand({ mapRunArn }));
    expect(mapRun.maxConcurrency).toBe(CHILD_BATCHES_AT_ONCE);
    const { executions = [] } = await sfn.send(new ListExecutionsCommand({ mapRunArn }));
    // Batches of 100 images: more children than may run at once, all of them finished.
    expect(executions).toHaveLength(IMAGES / 100);
    expect(executions.every((e) => e.status === 'SUCCEEDED')).toBe(true);
    // The bound is the contract; overlap at millisecond resolution depends on the machine, so
    // only "more than one at once" is asked of it.
    const most = mostAtOnce(executions);
    expect(most).toBeLessThanOrEqual(CHILD_BATCHES_AT_ONCE);
    expect(most).toBeGreaterThan(1);
  });

  it('pages the records in upload order, each as POST /analyze answers it', async () => {
    const analyzed = await postImages(`${local.api}/analyze`, FIXTURES);
    expect(analyzed.status).toBe(200);
    const expected = (analyzed.body as Record<string, unknown>[]).map(
      ({ index: _, name: __, ...rest }) => rest,
    );

    const items: Record<string, unknown>[] = [];
    let cursor: string | null = '0';
    while (cursor !== null) {
      const page = await get(`${local.api}/batches/${batchId}/results?limit=1000&cursor=${cursor}`);
      expect(page.status).toBe(200);
      const body = page.body as { items: Record<string, unknown>[]; nextCursor: string | null };
      items.push(...body.items);
      cursor = body.nextCursor;
    }
    expect(items).toHaveLength(IMAGES + 2);
    // libvips' error text is process-wide: under concurrent decodes a corrupt image's message
    // may read "(Unknown error)" in place of the decoder's words. The code is the contract.
    const withoutDetail = (record: Record<string, unknown> | undefined) => {
      const error = record?.error as { message: string } | undefined;
      return error
        ? { ...record, error: { ...error, message: error.message.split(' (')[0] } }
        : record;
    };
    items.slice(0, IMAGES).forEach((record, index) => {
      expect(withoutDetail(record)).toEqual({
        index,
        name: null,
        ...withoutDetail(expected[index % FIXTURES.length]),
      });
    });
    for (const index of [missing, oversized]) {
      expect(items[index]).toMatchObject({
        index,
        bytes: 100,
        error: { code: 'NOT_UPLOADED', retryable: false },
      });
    }
  });

  it('leaves no upload in the bucket once analyzed', async () => {
    const left = await s3.send(
      new ListObjectsV2Command({
        Bucket: local.runtime.stagingBucket,
        Prefix: `batches/${batchId}/uploads/`,
      }),
    );
    expect(left.KeyCount).toBe(0);
  });
});

describe('a small /shape batch with an image missing', () => {
  const photo = fixtureImage('photo_400x600.jpg');
  const truncated = fixtureImage('truncated_jpeg.jpg');

  it('answers each image as POST /shape would, and the missing one with its error', async () => {
    const created = await postJson(`${local.api}/batches`, {
      view: 'shape',
      images: [
        { filename: 'photo.jpg', contentType: 'image/jpeg', bytes: photo.length },
        { filename: null, contentType: 'image/jpeg', bytes: 10 },
        { filename: 'cut.jpg', contentType: 'image/jpeg', bytes: truncated.length },
      ],
    });
    expect(created.status).toBe(201);
    const { batchId, uploads, nextUploads } = created.body as {
      batchId: string;
      uploads: UploadForm[];
      nextUploads: string | null;
    };
    expect(nextUploads).toBeNull();
    const before = await get(`${local.api}/batches/${batchId}`);
    expect(before.body).toEqual({
      batchId,
      status: 'CREATED',
      images: 3,
      start: `/batches/${batchId}/start`,
    });
    const early = await get(`${local.api}/batches/${batchId}/results`);
    expect(early.status).toBe(409);
    expect(early.body).toMatchObject({ error: { code: 'BATCH_NOT_FINISHED', status: 'CREATED' } });

    expect((await postToForm(uploads[0] as UploadForm, photo, 'image/jpeg')).status).toBe(204);
    expect((await postToForm(uploads[2] as UploadForm, truncated, 'image/jpeg')).status).toBe(204);
    expect((await postJson(`${local.api}/batches/${batchId}/start`, '')).status).toBe(202);
    const done = await settle(`${local.api}/batches/${batchId}`);
    expect(done.body).toMatchObject({
      status: 'SUCCEEDED',
      progress: { total: 2, succeeded: 2, failed: 0, notUploaded: 1 },
    });

    const results = await get(`${local.api}/batches/${batchId}/results?limit=2`);
    expect(results.body).toEqual({
      items: [
        [600, 400, 3],
        {
          error: {
            code: 'NOT_UPLOADED',
            message: 'The image was not uploaded before the batch started.',
            retryable: false,
          },
        },
      ],
      nextCursor: '2',
    });
    const rest = await get(`${local.api}/batches/${batchId}/results?cursor=2`);
    const sync = await postImages(`${local.api}/shape`, [
      { name: 'cut.jpg', bytes: truncated, type: 'image/jpeg' },
    ]);
    expect(rest.body).toEqual({ items: sync.body, nextCursor: null });

    // What the children returned (logged, and written by the ResultWriter) is what /shape
    // renders of each image: its index and shape, or its error, not the full record.
    const Bucket = local.runtime.stagingBucket;
    const listed = await s3.send(
      new ListObjectsV2Command({ Bucket, Prefix: `results/${batchId}/` }),
    );
    const Key = listed.Contents?.find((o) => o.Key?.endsWith('/SUCCEEDED_0.json'))?.Key;
    const file = await s3.send(new GetObjectCommand({ Bucket, Key }));
    const children = JSON.parse((await file.Body?.transformToString()) ?? '') as {
      Output: string;
    }[];
    const records = children.flatMap((c) => JSON.parse(c.Output) as Record<string, unknown>[]);
    expect(records.map((r) => r.index).sort()).toEqual([0, 2]);
    expect(records).toContainEqual({ index: 0, shape: [600, 400, 3] });
    for (const record of records)
      expect(Object.keys(record).sort()).toEqual(
        'error' in record ? ['error', 'index'] : ['index', 'shape'],
      );
  }, 60_000);

  it('runs a batch none of whose images came, and answers them all NOT_UPLOADED', async () => {
    const created = await postJson(`${local.api}/batches`, {
      view: 'nbytes',
      images: [{ contentType: 'image/png', bytes: 5 }],
    });
    const { batchId } = created.body as { batchId: string };
    expect((await postJson(`${local.api}/batches/${batchId}/start`, '')).status).toBe(202);
    const done = await settle(`${local.api}/batches/${batchId}`);
    expect(done.body).toMatchObject({
      status: 'SUCCEEDED',
      progress: { total: 0, notUploaded: 1 },
    });
    const results = await get(`${local.api}/batches/${batchId}/results`);
    expect(results.body).toMatchObject({
      items: [{ error: { code: 'NOT_UPLOADED' } }],
      nextCursor: null,
    });
  }, 60_000);

  it('answers 404 for a batch that does not exist', async () => {
    const res = await get(`${local.api}/batches/00000000-0000-4000-8000-000000000000`);
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ error: { code: 'NOT_FOUND' } });
  });

  it('starts a batch once when many starts race, with one record per image', async () => {
    const created = await postJson(`${local.api}/batches`, {
      view: 'nbytes',
      images: [
        { contentType: 'image/png', bytes: 5 },
        { contentType: 'image/png', bytes: 6 },
      ],
    });
    const { batchId } = created.body as { batchId: string };
    const starts = await Promise.all(
      Array.from({ length: 6 }, () => postJson(`${local.api}/batches/${batchId}/start`, '')),
    );
    expect(starts.map((s) => s.status)).toEqual(Array(6).fill(202));
    const arns = new Set(starts.map((s) => (s.body as { executionArn: string }).executionArn));
    expect(arns.size).toBe(1);
    await settle(`${local.api}/batches/${batchId}`);
    const results = await get(`${local.api}/batches/${batchId}/results`);
    expect(results.body).toMatchObject({
      items: [{ error: { code: 'NOT_UPLOADED' } }, { error: { code: 'NOT_UPLOADED' } }],
      nextCursor: null,
    });
  }, 60_000);
});

describe("a declaration against Lambda's 6 MiB event", () => {
  const images = Array.from({ length: 100_000 }, (_, i) => ({
    filename: null,
    contentType: 'image/jpeg',
    bytes: 3_000_000 + i,
  }));

  it('answers 413 for 100,000 images, which do not fit one event', async () => {
    const res = await postJson(`${local.api}/batches`, { view: 'shape', images });
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ error: { code: 'PAYLOAD_TOO_LARGE' } });
  }, 60_000);

  it('takes the longest declaration the CLI would send in one batch', async () => {
    const [first] = declarationGroups('shape', images, {
      maxBytes: PUBLISHED_LIMITS.maxDeclarationBytes,
      maxImages: PUBLISHED_LIMITS.maxBatchImages,
    });
    expect(first?.length).toBeLessThan(images.length);
    const res = await postJson(`${local.api}/batches`, { view: 'shape', images: first });
    expect(res.status).toBe(201);
  }, 60_000);
});

describe('the local S3', () => {
  it('answers 412 PreconditionFailed to a conditional PUT of a key that exists, as S3 does', async () => {
    const Key = `batches/conditional-${Date.now()}/manifest.jsonl`;
    const put = (Body: string) =>
      s3
        .send(
          new PutObjectCommand({
            Bucket: local.runtime.stagingBucket,
            Key,
            Body,
            IfNoneMatch: '*',
          }),
        )
        .then(
          () => 'written',
          (error: Error) => error.name,
        );
    const outcomes = await Promise.all(['a', 'b', 'c', 'd'].map(put));
    expect(outcomes.filter((o) => o === 'written')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'PreconditionFailed')).toHaveLength(3);
    const winner = ['a', 'b', 'c', 'd'][outcomes.indexOf('written')];
    const object = await s3.send(
      new GetObjectCommand({ Bucket: local.runtime.stagingBucket, Key }),
    );
    expect(await object.Body?.transformToString()).toBe(winner);
    await s3.send(new DeleteObjectCommand({ Bucket: local.runtime.stagingBucket, Key }));
  });
});
