/**
 * The service end to end on loopback: `npm start`'s runtime on free ports, real HTTP, real
 * multipart bodies from three encoders, the real ASL run by the local Step Functions endpoint,
 * sharp decoding the original service's fixtures.
 */
import { describe, expect, it } from 'vitest';
import { bilevelPng } from '../support/bomb.ts';
import { fixtureExpected, fixtureImage, originalAnswer } from '../support/fixtures.ts';
import { curl, get, postImages, postRaw } from '../support/http.ts';
import { useLocalRuntime } from '../support/runtime.ts';

const local = useLocalRuntime();

/** Every fixture, each staged in the local S3 and read back by the analysis. */
const fixtures = fixtureExpected();
const readable = fixtures.filter(([, e]) => e.shape.length > 0);

describe('the original curl lines', () => {
  it('answers /shape for a form upload with [[600,400,3]]', async () => {
    const out = await curl(
      `${local.api}/shape`,
      '-H',
      'Content-Type: multipart/form-data',
      '-F',
      'image=@test/fixtures/images/photo_400x600.jpg',
    );
    expect(JSON.parse(out)).toEqual([[600, 400, 3]]);
  });

  it('answers /nbytes for a form upload with [720]', async () => {
    const out = await curl(
      `${local.api}/nbytes`,
      '-F',
      'image=@test/fixtures/images/photo_400x600.jpg',
    );
    expect(JSON.parse(out)).toEqual([720]);
  });

  it('answers a raw image/jpg body with the bare shape', async () => {
    const out = await curl(
      `${local.api}/shape`,
      '-H',
      'Content-Type: image/jpg',
      '--data-binary',
      '@test/fixtures/images/photo_400x600.jpg',
    );
    expect(JSON.parse(out)).toEqual([600, 400, 3]);
  });
});

describe('every fixture, answered as the original service answered it', () => {
  it.each(fixtures)('%s in a FormData upload', async (name, expected) => {
    const bytes = fixtureImage(name);
    const shape = await postImages(`${local.api}/shape`, [{ name, bytes }]);
    const nbytes = await postImages(`${local.api}/nbytes`, [{ name, bytes }]);
    expect(shape.status).toBe(200);
    expect({ shape: shape.body, nbytes: nbytes.body }).toEqual({
      shape: [originalAnswer(expected).shape],
      nbytes: [originalAnswer(expected).nbytes],
    });
  });

  it.each(readable)('%s as a raw body', async (name, expected) => {
    const res = await postRaw(
      `${local.api}/nbytes`,
      fixtureImage(name),
      'application/octet-stream',
    );
    expect(res.body).toEqual(expected.nbytes);
  });

  it('answers all of them in one curl upload, in order, other fields ignored', async () => {
    const parts = fixtures.flatMap(([name]) => ['-F', `image=@test/fixtures/images/${name}`]);
    const out = await curl(`${local.api}/shape`, '-F', 'comment=ignored', ...parts);
    expect(JSON.parse(out)).toEqual(fixtures.map(([, e]) => e.shape));
  });

  it('gives the full record per image on /analyze', async () => {
    const res = await postImages(`${local.api}/analyze`, [
      { name: 'photo_400x600.jpg', bytes: fixtureImage('photo_400x600.jpg'), type: 'image/jpeg' },
      { name: 'rgba.png', bytes: fixtureImage('rgba_200x100.png'), type: 'image/png' },
      { name: 'text.jpg', bytes: fixtureImage('text_pretending.jpg'), type: 'image/jpeg' },
    ]);
    expect(res.status).toBe(200);
    expect(res.body).toEqual([
      expect.objectContaining({
        index: 0,
        filename: 'photo_400x600.jpg',
        format: 'jpeg',
        mode: 'RGB',
      }),
      expect.objectContaining({ index: 1, filename: 'rgba.png', shape: [100, 200, 4] }),
      expect.objectContaining({
        index: 2,
        filename: 'text.jpg',
        error: expect.objectContaining({ code: 'UNSUPPORTED_FORMAT' }),
      }),
    ]);
    expect(res.headers.get('x-execution-arn')).toMatch(/:express:ImageBatchSync:/);
  });
});

describe('under load', () => {
  it('gives 40 concurrent requests each its own right answer', async () => {
    const requests = Array.from({ length: 40 }, (_, i) => {
      const [name, expected] = readable[i % readable.length] as (typeof readable)[number];
      const view = i % 2 ? 'shape' : 'nbytes';
      const want = view === 'shape' ? expected.shape : expected.nbytes;
      return postImages(`${local.api}/${view}`, [{ name, bytes: fixtureImage(name) }]).then(
        (res) => ({
          got: res.body,
          want: [want],
        }),
      );
    });
    const results = await Promise.all(requests);
    for (const { got, want } of results) expect(got).toEqual(want);
  });
});

describe('bounded work per request', () => {
  it('answers 413 naming the pixel budget for 50 one-bit PNGs of 13,370², decoding none', async () => {
    const bomb = bilevelPng(13_370, 13_370);
    const files = Array.from({ length: 50 }, (_, i) => ({ name: `${i}.png`, bytes: bomb }));
    const res = await postImages(`${local.api}/shape`, files);
    expect(res.status).toBe(413);
    expect(res.body).toEqual({
      error: {
        code: 'PIXEL_BUDGET_EXCEEDED',
        message: expect.any(String),
        limit: 1_000_000_000,
        pixels: 50 * 13_370 * 13_370,
        hint: expect.stringContaining('Prefer: respond-async'),
      },
    });
    // Refused before staging: nothing was started.
    expect(res.headers.get('x-execution-arn')).toBeNull();
  });
});

describe('bad requests get a JSON 4xx and the server keeps serving', () => {
  const codeOf = (body: unknown) => (body as { error: { code: string } }).error.code;

  it.each([
    ['an empty raw body', () => postRaw(`${local.api}/shape`, Buffer.alloc(0), 'image/png'), 400],
    ['a text body', () => postRaw(`${local.api}/shape`, Buffer.from('hello'), 'text/plain'), 415],
    [
      'a form without an image part',
      () => postImages(`${local.api}/shape`, [], { picture: 'not an image field' }),
      422,
    ],
    ['an unknown route', () => get(`${local.api}/resize`, { method: 'POST' }), 404],
    ['a wrong method', () => get(`${local.api}/shape`), 405],
    [
      'a body over 10 MB',
      () => postRaw(`${local.api}/shape`, Buffer.alloc(11 * 1024 * 1024), 'image/jpeg'),
      413,
    ],
  ] as const)('refuses %s', async (_what, send, status) => {
    const res = await send();
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    expect(codeOf(res.body)).toMatch(/^[A-Z_]+$/);
    const after = await postImages(`${local.api}/shape`, [
      { name: 'gray.jpg', bytes: fixtureImage('gray_300x200.jpg') },
    ]);
    expect(after.body).toEqual([[200, 300]]);
  });
});

describe('every run is an execution a person can inspect', () => {
  it('lists the run, Express included, in the local view', async () => {
    const res = await postImages(`${local.api}/shape`, [
      { name: 'photo_400x600.jpg', bytes: fixtureImage('photo_400x600.jpg') },
    ]);
    const arn = res.headers.get('x-execution-arn') ?? '';
    const list = await get(local.runtime.sfnUrl);
    expect(list.body).toContain(encodeURIComponent(arn));
    const detail = await get(`${local.runtime.sfnUrl}/execution?arn=${encodeURIComponent(arn)}`);
    expect(detail.status).toBe(200);
    expect(detail.body).toContain('1 iteration: 1 succeeded');
    // What a person reads there: names, sizes and staged keys, no image.
    expect(detail.body).toContain('staging/');
    expect(detail.body).toContain('photo_400x600.jpg');
  });
});
