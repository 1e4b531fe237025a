/** What the CLI prints: one record per file, in order, as JSON, JSON lines, CSV or a table. */
import { describe, expect, it } from 'vitest';
import { isUnreadable, render, toRecords } from '../../cli/output.ts';
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
      'file,nbytes\r\na.png,[]',
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

describe('chooseRoute', () => {
  const set = (count: number, size = 1000) =>
    Array.from({ length: count }, (_, i) => ({ file: `${i}.png`, path: `/${i}.png`, size }));

  it('sends up to 50 images synchronously and up to 200 asynchronously', () => {
    expect(chooseRoute(set(50), undefined)).toBe('sync');
    expect(chooseRoute(set(51), undefined)).toBe('async');
    expect(chooseRoute(set(200), undefined)).toBe('async');
  });

  it('refuses more than one request takes, by count or by bytes, naming what is missing', () => {
    expect(() => chooseRoute(set(201), undefined)).toThrow(
      '201 files: over the 200 one request takes, and the large-batch path (direct uploads to S3) is not available yet',
    );
    expect(() => chooseRoute(set(2, 2_300_000), undefined)).toThrow(
      /2 files, about 4\.6 MB: over the 4\.4 MB one request takes/,
    );
  });

  it('lets --sync and --async force a route and the service judge', () => {
    expect(chooseRoute(set(201), 'sync')).toBe('sync');
    expect(chooseRoute(set(1), 'async')).toBe('async');
  });
});
