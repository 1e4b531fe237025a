/**
 * libvips' loader blocks are process-wide, and setting them passes through an instant where
 * every loader is blocked. The analysis sets them at import, unless its host (the local twin,
 * whose sandboxes share one process) has set them once for all — so that no sandbox's cold
 * start blocks a sibling's decode (lambdas/analyze/loaders.ts).
 */
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

beforeEach(() => vi.resetModules());
afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

describe("libvips' loader blocks", () => {
  it('are set when the analysis is imported in a Lambda environment of its own', async () => {
    vi.stubEnv('LIBVIPS_LOADERS_RESTRICTED_BY_HOST', undefined);
    const block = vi.spyOn(sharp, 'block');
    await import('../../lambdas/analyze/analysis.ts');
    expect(block).toHaveBeenCalledWith({ operation: ['VipsForeignLoad'] });
  });

  it('are left alone by a sandbox whose host process has set them', async () => {
    vi.stubEnv('LIBVIPS_LOADERS_RESTRICTED_BY_HOST', '1');
    const block = vi.spyOn(sharp, 'block');
    const unblock = vi.spyOn(sharp, 'unblock');
    await import('../../lambdas/analyze/analysis.ts');
    expect(block).not.toHaveBeenCalled();
    expect(unblock).not.toHaveBeenCalled();
  });

  it('are set once per thread, however often they are asked for', async () => {
    const block = vi.spyOn(sharp, 'block');
    const { restrictLoaders } = await import('../../lambdas/analyze/loaders.ts');
    restrictLoaders();
    restrictLoaders();
    expect(block).toHaveBeenCalledTimes(1);
  });
});
