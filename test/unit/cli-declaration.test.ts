/**
 * How the CLI cuts a large set into batches whose declarations (POST /batches) each fit
 * Lambda's 6 MiB event, where a JSON body rides as a JSON string, its quotes escaped.
 */
import { describe, expect, it } from 'vitest';
import { declarationEventBytes, declarationGroups, PUBLISHED_LIMITS } from '../../cli/limits.ts';

const jpeg = (i: number, filename: string | null = null) => ({
  filename,
  contentType: 'image/jpeg',
  bytes: 3_000_000 + i,
});
const limits = {
  maxBytes: PUBLISHED_LIMITS.maxDeclarationBytes,
  maxImages: PUBLISHED_LIMITS.maxBatchImages,
};

describe('a large batch declaration', () => {
  it('counts its bytes as the Lambda event carries them, escaped quotes included', () => {
    const declaration = { view: 'shape', images: [jpeg(0)] };
    const text = JSON.stringify(declaration);
    expect(text.length).toBe(88);
    // Two quotes around the body, a backslash before each of its 14 quotes.
    expect(declarationEventBytes(declaration)).toBe(88 + 2 + 14);
  });

  it('does not fit 100,000 images in one request, even without filenames', () => {
    const images = Array.from({ length: 100_000 }, (_, i) => jpeg(i));
    expect(declarationEventBytes({ view: 'shape', images })).toBeGreaterThan(limits.maxBytes);
    const groups = declarationGroups('shape', images, limits);
    expect(groups.length).toBe(2);
    expect(groups.flat()).toEqual(images);
  });

  it('makes each group as long as fits, in order, and every group fits', () => {
    const images = Array.from({ length: 180_000 }, (_, i) =>
      jpeg(i, i % 3 ? `IMG_${String(i).padStart(6, '0')}.jpg` : 'caf\u00e9 "quoted" \\ name.jpg'),
    );
    const groups = declarationGroups('analyze', images, limits);
    expect(groups.flat()).toEqual(images);
    for (const [k, group] of groups.entries()) {
      const bytes = declarationEventBytes({ view: 'analyze', images: group });
      expect(bytes).toBeLessThanOrEqual(limits.maxBytes);
      const next = groups[k + 1]?.[0];
      // Maximal: one more image would not have fit.
      if (next)
        expect(
          declarationEventBytes({ view: 'analyze', images: [...group, next] }),
        ).toBeGreaterThan(limits.maxBytes);
    }
  });

  it('keeps a set that fits in one group and never a group over the image limit', () => {
    expect(declarationGroups('shape', [jpeg(0), jpeg(1)], limits)).toEqual([[jpeg(0), jpeg(1)]]);
    const small = Array.from({ length: 7 }, (_, i) => jpeg(i));
    expect(
      declarationGroups('shape', small, { maxBytes: limits.maxBytes, maxImages: 3 }).map(
        (g) => g.length,
      ),
    ).toEqual([3, 3, 1]);
  });
});
