import { describe, expect, it } from 'vitest';
import { planBatch, STAGING_PREFIX } from '../../lambdas/ingest/staging.ts';
import type { Upload } from '../../lambdas/ingest/uploads.ts';

const upload = (bytes: number): Upload => ({
  name: 'image',
  filename: `${bytes}.jpg`,
  contentType: 'image/jpeg',
  content: Buffer.alloc(bytes, 1),
});
const plan = (sizes: number[], budgetBytes = 240 * 1024) =>
  planBatch(sizes.map(upload), { budgetBytes, bucket: 'b', executionName: 'exec-1' });
const sources = (p: ReturnType<typeof plan>) =>
  p.items.map((i) => ('s3' in i.source ? 's3' : 'inline'));

describe('planBatch', () => {
  it('keeps everything inline when the batch fits the budget', () => {
    const p = plan([10_000, 20_000, 30_000]);
    expect(sources(p)).toEqual(['inline', 'inline', 'inline']);
    expect(p.staged).toEqual([]);
  });

  it('stages the largest images first, and only as many as needed', () => {
    const p = plan([50_000, 600_000, 20_000, 150_000, 10_000]);
    expect(sources(p)).toEqual(['inline', 's3', 'inline', 's3', 'inline']);
    const q = plan([150_000, 150_000, 150_000]);
    expect(sources(q).filter((s) => s === 's3')).toHaveLength(2);
  });

  it('keeps the upload order and identity whatever is staged', () => {
    const p = plan([600_000, 1_000]);
    expect(p.items.map((i) => [i.index, i.filename])).toEqual([
      [0, '600000.jpg'],
      [1, '1000.jpg'],
    ]);
  });

  it('keys each staged image under its execution', () => {
    const p = plan([600_000, 700_000]);
    expect(p.staged.map((s) => s.key).sort()).toEqual([
      `${STAGING_PREFIX}exec-1/0`,
      `${STAGING_PREFIX}exec-1/1`,
    ]);
    expect(p.items[1]?.source).toEqual({ s3: { bucket: 'b', key: `${STAGING_PREFIX}exec-1/1` } });
  });

  it('counts what staged items still carry: long names fit too', () => {
    const uploads = Array.from({ length: 200 }, (_, i) => ({
      ...upload(4_000),
      filename: `${i}${'n'.repeat(250)}`,
    }));
    const p = planBatch(uploads, { budgetBytes: 240 * 1024, bucket: 'b', executionName: 'e' });
    const input = JSON.stringify({ request: { view: 'shape', multipart: true }, items: p.items });
    expect(Buffer.byteLength(input)).toBeLessThanOrEqual(240 * 1024);
    // Staging is by need: some of these stay inline.
    expect(p.staged.length).toBeGreaterThan(0);
    expect(p.staged.length).toBeLessThan(200);
  });

  it('produces an input that fits the budget for any mix of sizes', () => {
    for (const sizes of [
      [180_000, 1],
      Array.from({ length: 50 }, (_, i) => 1_000 * (i + 1)),
      Array.from({ length: 200 }, () => 5_000),
    ]) {
      const p = plan(sizes);
      const input = JSON.stringify({ request: { view: 'shape', multipart: true }, items: p.items });
      expect(Buffer.byteLength(input)).toBeLessThanOrEqual(240 * 1024);
    }
  });
});
