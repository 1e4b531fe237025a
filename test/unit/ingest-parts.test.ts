import { describe, expect, it } from 'vitest';
import { mediaTypeOf, pathOf, prefersAsync } from '../../lambdas/ingest/event.ts';
import { hasCloseDelimiter, imageParts } from '../../lambdas/ingest/multipart.ts';
import { matchRoute, resolveRoute } from '../../lambdas/ingest/routes.ts';
import { renderBatch } from '../../lambdas/ingest/views.ts';
import type { AnalysisRecord } from '../../lambdas/shared/workflow.ts';
import { httpApiEvent, restEvent } from '../support/events.ts';

const record = (index: number, shape: number[] | null): AnalysisRecord =>
  (shape
    ? { index, name: 'image', filename: null, contentType: null, shape, nbytes: index }
    : {
        index,
        name: 'image',
        filename: null,
        contentType: null,
        bytes: 0,
        error: { code: 'CORRUPT_IMAGE', message: 'x' },
      }) as AnalysisRecord;

describe('views', () => {
  it('orders results by upload index whatever order they come in', () => {
    const results = [record(2, [3, 3]), record(0, [1, 1]), record(1, null)];
    expect(renderBatch({ request: { view: 'shape', multipart: true }, results })).toEqual([
      [1, 1],
      [],
      [3, 3],
    ]);
  });

  it('refuses /shape and /nbytes with a 500 naming the images whose analysis crashed, never []', () => {
    const crash = {
      ...record(1, null),
      error: { code: 'ANALYSIS_FAILED', message: 'RangeError', retryable: false },
    } as AnalysisRecord;
    const lost = {
      ...record(2, null),
      error: { code: 'ANALYSIS_FAILED', message: 'NoSuchKey', retryable: true },
    } as AnalysisRecord;
    const results = [record(0, [1, 1]), crash, lost];
    for (const view of ['shape', 'nbytes'] as const)
      expect(() => renderBatch({ request: { view, multipart: true }, results })).toThrow(
        expect.objectContaining({
          statusCode: 500,
          code: 'ANALYSIS_FAILED',
          details: { retryable: false, indexes: [1] },
        }),
      );
    // Without the crash, the platform's failure alone is a retryable 503.
    expect(() =>
      renderBatch({
        request: { view: 'shape', multipart: true },
        results: [record(0, [1, 1]), lost],
      }),
    ).toThrow(
      expect.objectContaining({ statusCode: 503, details: { retryable: true, indexes: [2] } }),
    );
    // /analyze shows each record as it is.
    expect(renderBatch({ request: { view: 'analyze', multipart: true }, results })).toEqual(
      results,
    );
  });

  it('answers a raw upload with the bare value', () => {
    const results = [record(0, [5, 6, 3])];
    expect(renderBatch({ request: { view: 'nbytes', multipart: false }, results })).toBe(0);
  });
});

describe('routes', () => {
  it('matches templates, with and without a trailing slash', () => {
    expect(matchRoute('/executions/abc')?.params).toEqual({ id: 'abc' });
    expect(matchRoute('/shape/')?.route.path).toBe('/shape');
    expect(matchRoute('/shape/extra')).toBeUndefined();
  });

  it('resolves views and refuses other methods', () => {
    expect(resolveRoute('POST', '/nbytes')).toEqual({ kind: 'batch', view: 'nbytes' });
    expect(() => resolveRoute('PUT', '/nbytes')).toThrow(/PUT is not allowed/);
    expect(() => resolveRoute('POST', '/')).toThrow(/No route/);
  });
});

describe('events', () => {
  it('reads Prefer: respond-async among other preferences (RFC 7240)', () => {
    expect(prefersAsync('respond-async')).toBe(true);
    expect(prefersAsync('return=minimal, Respond-Async; wait=10')).toBe(true);
    expect(prefersAsync('return=representation')).toBe(false);
    expect(prefersAsync(undefined)).toBe(false);
  });

  it('takes the path without the stage, for REST and HTTP APIs', () => {
    expect(pathOf(restEvent({ path: '/shape' }))).toBe('/shape');
    expect(pathOf(httpApiEvent({ path: '/shape' }))).toBe('/shape');
  });

  it('reduces a content type to its media type', () => {
    expect(mediaTypeOf('Multipart/Form-Data; boundary=x')).toBe('multipart/form-data');
    expect(mediaTypeOf(undefined)).toBe('');
  });
});

describe('multipart', () => {
  const body = (text: string) => restEvent({ path: '/shape', body: Buffer.from(text) });

  it('finds the close delimiter for plain and quoted boundaries', () => {
    const text = '--a:b\r\n\r\nx\r\n--a:b--\r\n';
    expect(hasCloseDelimiter(body(text), 'multipart/form-data; boundary="a:b"')).toBe(true);
    expect(hasCloseDelimiter(body(text), 'multipart/form-data; boundary=a:b')).toBe(true);
    expect(hasCloseDelimiter(body('--a:b\r\n\r\nx'), 'multipart/form-data; boundary=a:b')).toBe(
      false,
    );
    expect(hasCloseDelimiter(body(text), 'multipart/form-data')).toBe(false);
  });

  it('finds the close delimiter before a long epilogue, and misses it when it is absent', () => {
    const type = 'multipart/form-data; boundary=xyz';
    const head = `--xyz\r\n\r\n${'a'.repeat(10_000)}\r\n`;
    expect(hasCloseDelimiter(body(`${head}--xyz--\r\n${'e'.repeat(20_000)}`), type)).toBe(true);
    expect(hasCloseDelimiter(body(`${head}--xyz--`), type)).toBe(true);
    expect(hasCloseDelimiter(body(`${head}--xyz-\r\n${'e'.repeat(20_000)}`), type)).toBe(false);
  });

  it('puts repeated image parts back in upload order (the parser keeps them newest first)', () => {
    const part = (n: number) => ({ content: Buffer.from([n]), filename: `${n}` });
    expect(imageParts({ image: [part(3), part(2), part(1)] }).map((p) => p.filename)).toEqual([
      '1',
      '2',
      '3',
    ]);
    expect(imageParts({ image: part(7), note: 'x' }).map((p) => p.filename)).toEqual(['7']);
    expect(imageParts({ note: 'x' })).toEqual([]);
  });
});
