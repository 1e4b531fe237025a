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
    // Tests that read logs capture them; everything else stays quiet.
    env: { POWERTOOLS_LOG_LEVEL: 'SILENT' },
    reporters: jsonReport ? ['default', ['json', { outputFile: jsonReport }]] : ['default'],
  },
});
