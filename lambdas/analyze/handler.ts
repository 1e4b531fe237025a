/** The analysis Lambda: one Map item per invocation (see statemachine/). Glue only. */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { createS3Client } from '../shared/clients.ts';
import { createLogger } from '../shared/logger.ts';
import { createMetrics, metricsMiddleware, recordAnalysis } from '../shared/metrics.ts';
import { loadTracing } from '../shared/tracer.ts';
import { isFailure, type MapItem } from '../shared/types.ts';
import { analyzeItem } from './analyze-item.ts';

const logger = createLogger('image-analyze');
const metrics = createMetrics('image-analyze');
const tracing = await loadTracing('image-analyze');
const s3 = tracing.client(createS3Client());

const analyze = async (item: MapItem) => {
  const started = performance.now();
  const record = await analyzeItem(item, {
    s3,
    onDeleteFailed: (error) =>
      logger.warn('staged image not deleted; the lifecycle rule will', { error: error as Error }),
  });
  recordAnalysis(metrics, record, performance.now() - started);
  logger.info('image analysed', {
    index: record.index,
    source: 'inline' in item.source ? 'inline' : 's3',
    bytes: record.bytes,
    ...(isFailure(record)
      ? { error: record.error.code }
      : { format: record.format, shape: record.shape }),
    durationMs: Math.round(performance.now() - started),
  });
  return record;
};

export const handler = middy(analyze)
  .use(metricsMiddleware(metrics))
  .use(tracing.middleware())
  .use(injectLambdaContext(logger));
