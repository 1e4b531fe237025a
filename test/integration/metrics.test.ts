/**
 * Business metrics through the local runtime: a real multipart POST over HTTP, the real ASL,
 * real images — and the EMF lines the functions write appear on the terminal's stdout, among
 * the logs, as CloudWatch Logs would receive them in AWS.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { LOCAL_NAMESPACE, METRIC } from '../../lambdas/shared/metrics.ts';
import { oracleImage } from '../support/fixtures.ts';
import { postImages } from '../support/http.ts';
import { useLocalRuntime } from '../support/runtime.ts';

// The EMF lines are what this file tests: vitest.config.ts turns them off everywhere else.
process.env.POWERTOOLS_METRICS_DISABLED = 'false';

const written: string[] = [];
beforeAll(() => {
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    written.push(String(chunk));
    return true;
  });
});
afterAll(() => vi.restoreAllMocks());
const local = useLocalRuntime();

type Emf = Record<string, unknown> & {
  _aws: { CloudWatchMetrics: { Namespace: string; Metrics: { Name: string }[] }[] };
};
const emf = () =>
  written
    .flatMap((chunk) => chunk.split('\n'))
    .filter((line) => line.startsWith('{') && line.includes('"_aws"'))
    .map((line) => JSON.parse(line) as Emf);
const withMetric = (name: string) =>
  emf().filter((d) => d._aws.CloudWatchMetrics[0]?.Metrics.some((m) => m.Name === name));

describe('business metrics in the local runtime', () => {
  it('are written to the terminal as EMF lines, one per outcome of a chunk, and per invocation and batch', async () => {
    const rgba = oracleImage('png_rgba.png');
    const gray = oracleImage('png_gray8.png');
    const cut = oracleImage('png_truncated.png');
    const res = await postImages(`${local.api}/shape`, [
      { name: 'rgba.png', bytes: rgba, type: 'image/png' },
      { name: 'cut.png', bytes: cut, type: 'image/png' },
      { name: 'gray.png', bytes: gray, type: 'image/png' },
    ]);
    expect(res.status).toBe(200);
    expect((res.body as unknown[])[1]).toEqual([]);

    // The three images are one chunk, one invocation: one document per outcome, its count
    // summed (two PNGs read, one not), and one timing document with a value per image, each
    // image credited its share of the invocation's time.
    expect(withMetric(METRIC.imagesAnalyzed)).toMatchObject([
      { service: 'image-analyze', format: 'png', ImagesAnalyzed: 2 },
    ]);
    expect(withMetric(METRIC.imagesUnreadable)).toMatchObject([
      { service: 'image-analyze', errorCode: 'CORRUPT_IMAGE', ImagesUnreadable: 1 },
    ]);
    const timings = withMetric(METRIC.analysisMs);
    expect(timings).toHaveLength(1);
    const values = timings[0]?.[METRIC.analysisMs] as number[];
    expect(values).toEqual([expect.any(Number), expect.any(Number), expect.any(Number)]);
    expect(values[0]).toBeGreaterThanOrEqual(0);
    expect(new Set(values).size).toBe(1);
    expect(withMetric(METRIC.batchSize)).toMatchObject([
      // Every image is staged: the request's bytes, once.
      {
        service: 'image-ingest',
        BatchSize: 3,
        StagedBytes: rgba.length + cut.length + gray.length,
      },
    ]);
    for (const doc of emf()) expect(doc._aws.CloudWatchMetrics[0]?.Namespace).toBe(LOCAL_NAMESPACE);
  });
});
