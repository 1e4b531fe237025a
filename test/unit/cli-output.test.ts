/** What the CLI prints: one record per file, in order, as JSON, JSON lines, CSV or a table. */
import { describe, expect, it } from 'vitest';
import { isNotAnalyzed, isUnreadable, render, toRecords } from '../../cli/output.ts';
import { chooseRoute } from '../../cli/transports/index.ts';

const cat = {
  index: 0,
  name: 'image',
  filename: 'cat.jpg',
  contentType: 'image/jpeg',
  format: 'jpeg',
  mode: 'RGB',
  shape: [600, 400, 3],
  nbytes: 720,
};
const broken = {
  index: 1,
  name: 'image',
  filename: 'notes, "draft".txt',
  contentType: 'application/octet-stream',
  error: { code: 'UNSUPPORTED_FORMAT', message: 'Not a supported image' },
};
const files = ['photos/cat.jpg', 'photos/notes, "draft".txt'];

describe('toRecords', () => {
  it('puts the path as given before the view fields', () => {
    expect(toRecords('shape', files, [[600, 400, 3], []])).toEqual([
      { file: 'photos/cat.jpg', shape: [600, 400, 3] },
      { file: 'photos/notes, "draft".txt', shape: [] },
    ]);
    expect(toRecords('analyze', files, [cat, broken])[1]).toEqual({ file: files[1], ...broken });
  });

  it('calls an image unreadable by [] on /shape and /nbytes, by its error on /analyze', () => {
    const nbytes = toRecords('nbytes', files, [720, []]);
    expect(nbytes.map((r) => isUnreadable('nbytes', r))).toEqual([false, true]);
    const analyze = toRecords('analyze', files, [cat, broken]);
    expect(analyze.map((r) => isUnreadable('analyze', r))).toEqual([false, true]);
  });
});

describe('render', () => {
  const records = toRecords('analyze', files, [cat, broken]);

  it('prints one JSON array, a record per line', () => {
    const out = render('json', 'analyze', records);
    expect(JSON.parse(out)).toEqual(records);
    expect(out.split('\n')).toHaveLength(4);
    expect(render('json', 'shape', [])).toBe('[]');
  });

  it('prints JSON lines, one record each', () => {
    const out = render('jsonl', 'analyze', records);
    expect(out.split('\n').map((line) => JSON.parse(line))).toEqual(records);
  });

  it('prints RFC 4180 CSV: quoted commas and quotes, arrays as JSON', () => {
    const out = render('csv', 'analyze', records).split('\r\n');
    expect(out[0]).toMatch(/^file,shape,nbytes,format,.*,errorCode,errorMessage$/);
    expect(out[1]).toMatch(/^photos\/cat\.jpg,"\[600,400,3\]",720,jpeg,/);
    expect(out[2]).toMatch(
      /^"photos\/notes, ""draft"".txt",,,.*,UNSUPPORTED_FORMAT,Not a supported image$/,
    );
    expect(render('csv', 'nbytes', toRecords('nbytes', ['a.png'], [[]]))).toBe(
      'file,nbytes,error\r\na.png,[],unreadable',
    );
  });

  it('prints a table with file, shape, size in kB, format and error', () => {
    expect(render('table', 'analyze', records).split('\n')).toEqual([
      'file                       shape        size (kB)  format  error',
      '-------------------------  -----------  ---------  ------  ------------------',
      'photos/cat.jpg             [600,400,3]  720        jpeg',
      'photos/notes, "draft".txt                                  UNSUPPORTED_FORMAT',
    ]);
    expect(render('table', 'shape', toRecords('shape', ['a.png'], [[]])).split('\n')[2]).toBe(
      'a.png         unreadable',
    );
  });
});

describe('an image the service could not analyze', () => {
  const notUploaded = {
    error: { code: 'NOT_UPLOADED', message: 'The image was not uploaded.', retryable: false },
  };
  const failed = { error: { code: 'ANALYSIS_FAILED', message: 'Lambda', retryable: true } };

  it('is an error on /shape and /nbytes, not the [] of an unreadable image', () => {
    const records = toRecords('shape', ['a.png', 'b.png', 'c.png'], [notUploaded, [], [8, 8, 3]]);
    expect(records).toEqual([
      { file: 'a.png', error: notUploaded.error },
      { file: 'b.png', shape: [] },
      { file: 'c.png', shape: [8, 8, 3] },
    ]);
    expect(records.map((r) => [isUnreadable('shape', r), isNotAnalyzed(r)])).toEqual([
      [false, true],
      [true, false],
      [false, false],
    ]);
    expect(render('csv', 'shape', records).split('\r\n')[1]).toBe('a.png,,NOT_UPLOADED');
    expect(render('table', 'shape', records).split('\n')[2]).toBe('a.png           NOT_UPLOADED');
  });

  it('is worth running again when the platform failed, not when the image did', () => {
    const records = toRecords('analyze', ['a.png', 'b.png'], [failed, broken]);
    expect(records.map(isNotAnalyzed)).toEqual([true, false]);
  });
});

describe('chooseRoute', () => {
  const set = (count: number, size = 1000) =>
    Array.from({ length: count }, (_, i) => ({ file: `${i}.png`, path: `/${i}.png`, size }));

  it('sends what one request takes synchronously, by count and by bytes', () => {
    expect(chooseRoute(set(50), undefined)).toBe('sync');
    expect(chooseRoute(set(1, 4_399_000), undefined)).toBe('sync');
  });

  it('sends anything larger through /batches, never the 202 route', () => {
    expect(chooseRoute(set(51), undefined)).toBe('batch');
    expect(chooseRoute(set(201), undefined)).toBe('batch');
    expect(chooseRoute(set(2, 2_300_000), undefined)).toBe('batch');
    expect(chooseRoute(set(100_000), undefined)).toBe('batch');
  });

  it('refuses, naming why, a set no route takes: too many images or one too large', () => {
    expect(() => chooseRoute(set(100_001), undefined)).toThrow(
      '100001 files: over the 100000 one large batch takes; split the set',
    );
    const huge = [...set(60), { file: 'scan.tif', path: '/scan.tif', size: 52_428_801 }];
    expect(() => chooseRoute(huge, undefined)).toThrow(
      'scan.tif is 52.4 MB: over the 52.4 MB the service takes for one image',
    );
  });

  it('lets --sync, --async and --batch force a route and the service judge', () => {
    expect(chooseRoute(set(201), 'sync')).toBe('sync');
    expect(chooseRoute(set(1), 'async')).toBe('async');
    expect(chooseRoute(set(1), 'batch')).toBe('batch');
  });
});
