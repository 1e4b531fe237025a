/** The analysis Lambda: one chunk of images (or a Map item, or an ItemBatcher batch) per
 * invocation. Glue only. */
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { S3Client } from '@aws-sdk/client-s3';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { createS3Client } from '../shared/clients.ts';
import { onFirstInvocation } from '../shared/cold-start.ts';
import { createLogger } from '../shared/logger.ts';
import { createMetrics, metricsMiddleware, recordAnalyses } from '../shared/metrics.ts';
import { loadTracing, NO_TRACING, type Tracing } from '../shared/tracer.ts';
import type { AnalyzeEvent } from '../shared/workflow.ts';
import { analyzeEvent, answerFor } from './analyze-item.ts';
import { summarizeChunk } from './chunk-log.ts';

export interface AnalyzeHandlerDeps {
  s3: S3Client;
  logger: Logger;
  /** Business metrics (EMF), flushed once per invocation; unit tests may leave them out. */
  metrics?: Metrics;
  tracing?: Tracing;
}

/** The execution the workflow names in the invocation's ClientContext (`custom.executionArn`),
 * so that every line of a run can be found from its ARN. */
const executionArnOf = (context: Context): string | undefined => {
  const arn = (context.clientContext?.custom as { executionArn?: unknown } | undefined)
    ?.executionArn;
  return typeof arn === 'string' ? arn : undefined;
};

export const createHandler = ({ s3, logger, metrics, tracing = NO_TRACING }: AnalyzeHandlerDeps) =>
  middy(async (event: AnalyzeEvent, context: Context) => {
    const started = performance.now();
    const result = await analyzeEvent(event, { s3 });
    const records = [result].flat();
    // One line and one set of counts for the invocation, whatever number of images it held.
    const summary = summarizeChunk(records, performance.now() - started);
    if (metrics) recordAnalyses(metrics, records, summary.msPerImage);
    logger.info('chunk analyzed', { ...summary, executionArn: executionArnOf(context) });
    return answerFor(event, result);
  })
    .use(metrics ? [metricsMiddleware(metrics)] : [])
    .use(tracing.middleware())
    .use(injectLambdaContext(logger));

/** In Lambda: real clients, built on the first invocation so that importing reads nothing. */
const deployed = async () => {
  const tracing = await loadTracing('image-analyze');
  return createHandler({
    s3: tracing.client(createS3Client()),
    logger: createLogger('image-analyze'),
    metrics: createMetrics('image-analyze'),
    tracing,
  });
};
export const handler = onFirstInvocation(deployed);
