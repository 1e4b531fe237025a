import { defineConfig } from 'vitest/config';

// .ci/run sets VITEST_JSON_REPORT to turn the results into its "N passed, N failed" line.
const jsonReport = process.env.VITEST_JSON_REPORT;

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // sharp/libvips is safest in child processes rather than worker threads.
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    env: {
      // Tests that read logs capture them; everything else stays quiet.
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      // Metrics (EMF lines on stdout) too: the files that test them turn them back on.
      POWERTOOLS_METRICS_DISABLED: 'true',
      // npm ≥ 11 on Node ≥ 22 (npm start, npx esbuild in bundling) keeps Node's compile cache
      // in the temp directory, which tests must leave empty.
      NODE_DISABLE_COMPILE_CACHE: '1',
    },
    reporters: jsonReport ? ['default', ['json', { outputFile: jsonReport }]] : ['default'],
  },
});
