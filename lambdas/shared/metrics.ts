/**
 * Business metrics as CloudWatch Embedded Metric Format (Powertools Metrics): one JSON line on
 * stdout per flush, which CloudWatch Logs turns into metrics in Lambda and the local runtime
 * prints in the terminal beside the other logs. The names and dimensions here are the ones
 * the stack's dashboard and alarms read (infra/monitoring.ts), so they live in one place.
 *
 * Counts that have a breakdown (format, error code) are written under two dimension sets in
 * the same EMF line: per value, for the dashboard, and the total, for alarms (an alarm needs
 * one fixed metric; it cannot sum over a search).
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type middy from '@middy/core';
import { metricsNamespace } from './config.ts';
import { type ImageErrorCode, isFailure } from './types.ts';
import type { AnalysisRecord } from './workflow.ts';

export const METRIC = {
  /** Images decoded and measured, by `format`. */
  imagesAnalyzed: 'ImagesAnalyzed',
  /** Images the service read but could not decode (the client's bytes), by `errorCode`. */
  imagesUnreadable: 'ImagesUnreadable',
  /** Our fault, not the image's: a staged image gone, a crash, a 5xx answer — by `errorCode`. */
  platformFailures: 'PlatformFailures',
  /** Images per request. */
  batchSize: 'BatchSize',
  /** Time to read and analyze one image, staged download included. */
  analysisMs: 'AnalysisMilliseconds',
  /** Bytes of one request's images written to the claim-check bucket. */
  stagedBytes: 'StagedBytes',
  /** Powertools' own name for it. */
  coldStart: 'ColdStart',
} as const;

/** The dimension that breaks counts down, next to Powertools' own `service`. */
export const DIMENSION = { format: 'format', errorCode: 'errorCode' } as const;

/** Where metrics go when the stack does not say (the local runtime, tests). The stack sets
 * POWERTOOLS_METRICS_NAMESPACE per stage, so two stages in one account never mix. */
export const LOCAL_NAMESPACE = 'ImageBatch/local';

/** Codes that describe the image, not the platform: the client sent something we cannot read. */
const UNREADABLE: ReadonlySet<ImageErrorCode> = new Set([
  'EMPTY_IMAGE',
  'UNSUPPORTED_FORMAT',
  'CORRUPT_IMAGE',
  'PIXEL_LIMIT_EXCEEDED',
]);

export const createMetrics = (serviceName: string): Metrics =>
  new Metrics({
    serviceName,
    namespace: metricsNamespace(LOCAL_NAMESPACE),
  });

/** `count` of one thing, written at once, under `{service}` and `{service, <dimension>}`. */
const countBy = (metrics: Metrics, name: string, dimension: string, value: string, count = 1) => {
  const single = metrics.singleMetric();
  single.addDimension(dimension, value);
  single.addDimensions({}); // the service-only set: the total
  single.addMetric(name, MetricUnit.Count, count);
};

const recordPlatformFailure = (metrics: Metrics, code: string) =>
  countBy(metrics, METRIC.platformFailures, DIMENSION.errorCode, code);

/** Which count an analyzed image adds to: readable (by format), unreadable or a platform
 * failure (by code). */
const outcomeOf = (record: AnalysisRecord): [name: string, dimension: string, value: string] => {
  if (!isFailure(record)) return [METRIC.imagesAnalyzed, DIMENSION.format, record.format];
  const { code } = record.error;
  return UNREADABLE.has(code)
    ? [METRIC.imagesUnreadable, DIMENSION.errorCode, code]
    : [METRIC.platformFailures, DIMENSION.errorCode, code];
};

/**
 * One invocation's analyzed images (a Map item, a chunk or an ItemBatcher batch). An EMF
 * document carries one value per dimension, so each distinct outcome (`png`, `CORRUPT_IMAGE`…)
 * is one document whose count is how many images had it — not one document per image: the
 * dashboard and alarms read these counts as sums, which do not tell 1 + 1 + 1 from 3. The
 * timing keeps one value per image (the percentiles need them), stored until the flush: one
 * document holds them all as an array (Powertools flushes on its own at EMF's 100 values).
 */
export const recordAnalyses = (
  metrics: Metrics,
  records: readonly AnalysisRecord[],
  msPerImage: number,
) => {
  const counts = new Map<string, { outcome: ReturnType<typeof outcomeOf>; count: number }>();
  for (const record of records) {
    const outcome = outcomeOf(record);
    const key = outcome.join('/');
    const seen = counts.get(key);
    if (seen) seen.count++;
    else counts.set(key, { outcome, count: 1 });
  }
  for (const { outcome, count } of counts.values()) countBy(metrics, ...outcome, count);
  for (const _ of records)
    metrics.addMetric(METRIC.analysisMs, MetricUnit.Milliseconds, msPerImage);
};

/** One accepted request: how many images, and how many bytes of them went to S3. */
export const recordBatch = (
  metrics: Metrics,
  { images, stagedBytes }: { images: number; stagedBytes: number },
) => {
  metrics.addMetric(METRIC.batchSize, MetricUnit.Count, images);
  metrics.addMetric(METRIC.stagedBytes, MetricUnit.Bytes, stagedBytes);
};

const errorCodeOf = (body: unknown): string => {
  try {
    const code = JSON.parse(String(body)).error.code;
    return typeof code === 'string' ? code : 'UNKNOWN';
  } catch {
    return 'UNKNOWN';
  }
};

/**
 * Cold starts, 5xx answers and unhandled errors, then one flush per invocation. Powertools'
 * own logMetrics middleware would warn on every invocation that records nothing (a poll);
 * this flushes only when there is something to say. Register it first: its onError runs
 * last, after the JSON error middleware has turned the error into a response.
 */
export const metricsMiddleware = (metrics: Metrics): middy.MiddlewareObj => {
  const flush = (request: middy.Request) => {
    const status = (request.response as { statusCode?: number } | undefined)?.statusCode;
    if (status !== undefined && status >= 500)
      recordPlatformFailure(metrics, errorCodeOf((request.response as { body?: unknown }).body));
    else if (request.error && request.response === undefined)
      recordPlatformFailure(metrics, 'UNHANDLED_ERROR');
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  };
  return {
    before: ({ context }) => {
      metrics.captureColdStartMetric(context.functionName);
    },
    after: flush,
    onError: flush,
  };
};
