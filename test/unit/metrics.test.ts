/**
 * Business metrics as Embedded Metric Format lines on stdout — what CloudWatch turns into
 * metrics in Lambda and what the local runtime shows in the terminal. Records come from the
 * real analysis of repository fixtures; EMF lines are read back from what Powertools writes.
 */
import middy from '@middy/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { analyzeImage } from '../../lambdas/analyze/analysis.ts';
import {
  createMetrics,
  LOCAL_NAMESPACE,
  METRIC,
  metricsMiddleware,
  recordAnalyses,
  recordBatch,
} from '../../lambdas/shared/metrics.ts';
import type { AnalysisRecord } from '../../lambdas/shared/workflow.ts';
import { lambdaContext } from '../support/events.ts';
import { oracleImage } from '../support/fixtures.ts';

// The EMF lines are what this file tests: vitest.config.ts turns them off everywhere else.
process.env.POWERTOOLS_METRICS_DISABLED = 'false';

interface Emf {
  _aws: {
    CloudWatchMetrics: {
      Namespace: string;
      Dimensions: string[][];
      Metrics: { Name: string; Unit: string }[];
    }[];
  };
  [key: string]: unknown;
}

let lines: string[] = [];
beforeEach(() => {
  lines = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    lines.push(String(chunk));
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    lines.push(String(chunk));
    return true;
  });
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

/** The EMF documents written so far (other lines, if any, are not EMF). */
const emf = (): Emf[] =>
  lines
    .flatMap((l) => l.split('\n'))
    .filter((l) => l.includes('"_aws"'))
    .map((l) => JSON.parse(l));
const named = (name: string) =>
  emf().filter((d) => d._aws.CloudWatchMetrics[0]?.Metrics.some((m) => m.Name === name));

const identity = { index: 0, name: 'image', filename: 'x', contentType: null };
const recordOf = async (file: string): Promise<AnalysisRecord> => ({
  ...identity,
  ...(await analyzeImage(oracleImage(file))),
});

describe('business metrics', () => {
  it('counts an analyzed image by format and in total, and times its analysis', async () => {
    const metrics = createMetrics('image-analyze');
    recordAnalyses(metrics, [await recordOf('png_rgba.png')], 12.5);
    metrics.publishStoredMetrics();

    const [count] = named(METRIC.imagesAnalyzed);
    expect(count?._aws.CloudWatchMetrics[0]?.Namespace).toBe(LOCAL_NAMESPACE);
    expect(count?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([
      ['service', 'format'],
      ['service'],
    ]);
    expect(count).toMatchObject({ service: 'image-analyze', format: 'png', ImagesAnalyzed: 1 });
    const [timing] = named(METRIC.analysisMs);
    expect(timing?._aws.CloudWatchMetrics[0]?.Metrics).toEqual([
      { Name: 'AnalysisMilliseconds', Unit: 'Milliseconds' },
    ]);
    expect(timing?.AnalysisMilliseconds).toBe(12.5);
  });

  it('counts an unreadable image by its error code, not as a platform failure', async () => {
    const metrics = createMetrics('image-analyze');
    const record = await recordOf('png_truncated.png');
    expect(record).toMatchObject({ error: { code: 'CORRUPT_IMAGE' } });
    recordAnalyses(metrics, [record], 3);
    expect(named(METRIC.imagesUnreadable)).toMatchObject([
      { errorCode: 'CORRUPT_IMAGE', ImagesUnreadable: 1 },
    ]);
    expect(named(METRIC.platformFailures)).toEqual([]);
    expect(named(METRIC.imagesAnalyzed)).toEqual([]);
  });

  it('counts a staged image that is gone as a platform failure', () => {
    const metrics = createMetrics('image-analyze');
    recordAnalyses(
      metrics,
      [{ ...identity, bytes: 0, error: { code: 'ANALYSIS_FAILED', message: 'gone' } }],
      1,
    );
    expect(named(METRIC.platformFailures)).toMatchObject([
      { errorCode: 'ANALYSIS_FAILED', PlatformFailures: 1 },
    ]);
  });

  it('writes a chunk as one document per outcome, its count summed, and one timing per image', async () => {
    const metrics = createMetrics('image-analyze');
    const [rgba, gray, cut] = await Promise.all(
      ['png_rgba.png', 'png_gray8.png', 'png_truncated.png'].map(recordOf),
    );
    const jpeg = await recordOf('jpeg_progressive.jpg');
    const chunk = [rgba, jpeg, cut, gray, rgba].map((r, index) => ({
      ...r,
      index,
    })) as AnalysisRecord[];
    recordAnalyses(metrics, chunk, 4);
    metrics.publishStoredMetrics();

    // Five images, three outcomes: three count documents (written at once), then the flush.
    expect(emf()).toHaveLength(4);
    expect(named(METRIC.imagesAnalyzed)).toMatchObject([
      { format: 'png', ImagesAnalyzed: 3 },
      { format: 'jpeg', ImagesAnalyzed: 1 },
    ]);
    expect(named(METRIC.imagesUnreadable)).toMatchObject([
      { errorCode: 'CORRUPT_IMAGE', ImagesUnreadable: 1 },
    ]);
    const [timing, ...more] = named(METRIC.analysisMs);
    expect(more).toEqual([]);
    expect(timing?.AnalysisMilliseconds).toEqual([4, 4, 4, 4, 4]);
  });

  it('records a batch’s size and staged bytes', () => {
    const metrics = createMetrics('image-ingest');
    recordBatch(metrics, { images: 7, stagedBytes: 2_000_000 });
    metrics.publishStoredMetrics();
    const [doc] = emf();
    expect(doc).toMatchObject({ BatchSize: 7, StagedBytes: 2_000_000 });
    expect(doc?._aws.CloudWatchMetrics[0]?.Metrics).toEqual([
      { Name: 'BatchSize', Unit: 'Count' },
      { Name: 'StagedBytes', Unit: 'Bytes' },
    ]);
  });
});

describe('the metrics middleware', () => {
  const answering = (statusCode: number, body: string) => {
    const metrics = createMetrics('image-ingest');
    const handler = middy(async () => {
      throw new Error('boom');
    })
      .use(metricsMiddleware(metrics))
      // Stands for the ingest's JSON error middleware, registered after it.
      .use({
        onError: (request) => {
          request.response = { statusCode, body };
        },
      });
    return handler;
  };

  it('counts a cold start once, and a 5xx answer as a platform failure by its code', async () => {
    // What Lambda sets for an on-demand environment; Powertools counts cold starts only there.
    vi.stubEnv('AWS_LAMBDA_INITIALIZATION_TYPE', 'on-demand');
    const handler = answering(503, '{"error":{"code":"STAGING_FAILED","message":"…"}}');
    await handler({}, lambdaContext());
    await handler({}, lambdaContext());
    expect(named(METRIC.coldStart)).toHaveLength(1);
    expect(named(METRIC.coldStart)[0]).toMatchObject({
      function_name: 'image-ingest',
      ColdStart: 1,
    });
    expect(named(METRIC.platformFailures)).toMatchObject([
      { errorCode: 'STAGING_FAILED' },
      { errorCode: 'STAGING_FAILED' },
    ]);
  });

  it('does not count a 4xx answer, and writes nothing at all for an invocation with no metrics', async () => {
    const handler = answering(404, '{"error":{"code":"NOT_FOUND","message":"…"}}');
    await handler({}, lambdaContext());
    lines = [];
    await handler({}, lambdaContext());
    expect(lines).toEqual([]);
  });

  it('counts an error that escapes the handler, and lets it through', async () => {
    const metrics = createMetrics('image-analyze');
    const handler = middy(async () => {
      throw new Error('crash');
    }).use(metricsMiddleware(metrics));
    await expect(handler({}, lambdaContext())).rejects.toThrow('crash');
    expect(named(METRIC.platformFailures)).toMatchObject([{ errorCode: 'UNHANDLED_ERROR' }]);
  });

  it('flushes what the handler recorded at the end of the invocation', async () => {
    const metrics = createMetrics('image-ingest');
    const handler = middy(async () => {
      recordBatch(metrics, { images: 3, stagedBytes: 0 });
      return { statusCode: 200, body: '[]' };
    }).use(metricsMiddleware(metrics));
    await handler({}, lambdaContext());
    expect(named(METRIC.batchSize)).toMatchObject([{ BatchSize: 3 }]);
  });
});
