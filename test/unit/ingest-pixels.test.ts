/**
 * The per-request pixel budget: the pixels each image declares, read from its header before
 * anything is decoded, against the analysis's own reading of the same real images.
 */
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { analyzeImage } from '../../lambdas/analyze/analysis.ts';
import { PixelBudgetError } from '../../lambdas/ingest/errors.ts';
import { assertPixelBudget, declaredPixels } from '../../lambdas/ingest/pixels.ts';
import { isFailure } from '../../lambdas/shared/types.ts';
import { bilevelPng } from '../support/bomb.ts';
import { FIXTURE_IMAGES, fixtureImage, ORACLE_IMAGES, oracleImage } from '../support/fixtures.ts';

const fixtures = [
  ...readdirSync(FIXTURE_IMAGES)
    .filter((f) => !f.endsWith('.json'))
    .map((f) => [f, fixtureImage(f)] as const),
  ...readdirSync(ORACLE_IMAGES).map((f) => [f, oracleImage(f)] as const),
];
// What the analysis (sharp) reads of the same files: the reference.
const readable: [string, Buffer, number][] = [];
for (const [name, bytes] of fixtures) {
  const analysis = await analyzeImage(bytes);
  if (!isFailure(analysis)) readable.push([name, bytes, analysis.width * analysis.height]);
}

describe('declaredPixels', () => {
  it.each(readable)('reads %s as the analysis does', (_, bytes, pixels) => {
    expect(declaredPixels(bytes)).toBe(pixels);
  });

  it('reads the declared size of a decompression bomb without decoding it', () => {
    const png = bilevelPng(13_370, 13_370);
    expect(png.length).toBeLessThan(50_000);
    expect(declaredPixels(png)).toBe(13_370 * 13_370);
  });

  it('counts bytes that are no image as 0', () => {
    expect(declaredPixels(Buffer.from('hello'))).toBe(0);
    expect(declaredPixels(Buffer.alloc(0))).toBe(0);
  });
});

describe('assertPixelBudget', () => {
  const bomb = declaredPixels(bilevelPng(13_370, 13_370));

  it('lets a batch within the budget through and says what it declares', () => {
    expect(assertPixelBudget([bomb, bomb], 400_000_000, 'sync')).toBe(2 * 13_370 * 13_370);
  });

  it('refuses a batch over the budget with a 413 naming it and suggesting async', () => {
    const error = (() => {
      try {
        assertPixelBudget([bomb, bomb, bomb], 400_000_000, 'sync');
      } catch (e) {
        return e as PixelBudgetError;
      }
    })();
    expect(error).toBeInstanceOf(PixelBudgetError);
    expect(error?.statusCode).toBe(413);
    expect(error?.code).toBe('PIXEL_BUDGET_EXCEEDED');
    expect(error?.details).toEqual({
      limit: 400_000_000,
      pixels: 3 * 13_370 * 13_370,
      hint: expect.stringContaining('Prefer: respond-async'),
    });
  });
});
