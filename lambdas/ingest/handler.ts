/** The ingest Lambda behind API Gateway. Glue only: the work is in ingest.ts. */
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SFNClient } from '@aws-sdk/client-sfn';
import middy from '@middy/core';
import httpCors from '@middy/http-cors';
import httpEventNormalizer from '@middy/http-event-normalizer';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { createS3Client, createSfnClient } from '../shared/clients.ts';
import { onFirstInvocation } from '../shared/cold-start.ts';
import { type IngestConfig, ingestConfig } from '../shared/config.ts';
import { createLogger } from '../shared/logger.ts';
import { createMetrics, metricsMiddleware } from '../shared/metrics.ts';
import { loadTracing, NO_TRACING, type Tracing } from '../shared/tracer.ts';
import type { IngestEvent } from './event.ts';
import { requestIdOf } from './event.ts';
import { ingest } from './ingest.ts';
import { jsonErrors, requestSizeLimit } from './middleware.ts';
import { multipartForm } from './multipart.ts';

export interface IngestHandlerDeps {
  config: IngestConfig;
  sfn: SFNClient;
  s3: S3Client;
  logger: Logger;
  /** Business metrics (EMF), flushed once per invocation; unit tests may leave them out. */
  metrics?: Metrics;
  tracing?: Tracing;
}

export const createHandler = ({
  config,
  sfn,
  s3,
  logger,
  metrics,
  tracing = NO_TRACING,
}: IngestHandlerDeps) =>
  middy<IngestEvent, APIGatewayProxyResult>()
    // First, so that its onError runs last, once jsonErrors has shaped the 5xx answer.
    .use(metrics ? [metricsMiddleware(metrics)] : [])
    .use(tracing.middleware())
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use({ before: ({ event }) => logger.appendKeys({ apiRequestId: requestIdOf(event) }) })
    .use(httpEventNormalizer())
    .use(httpHeaderNormalizer())
    // Registered before jsonErrors so that error responses get CORS headers too.
    .use(
      httpCors({
        origins: ['*'],
        disableBeforePreflightResponse: false,
        exposeHeaders: 'Location, Retry-After, Preference-Applied, X-Execution-Arn',
        headers: 'Content-Type, Prefer',
        methods: 'GET, POST, DELETE, OPTIONS',
        maxAge: 600,
      }),
    )
    .use(jsonErrors(logger))
    .use(requestSizeLimit(config.maxRequestBytes))
    .use(
      multipartForm({
        maxImages: Math.max(config.maxImagesSync, config.maxImagesAsync),
        maxImageBytes: config.maxRequestBytes,
      }),
    )
    .handler((event, context) =>
      ingest(event, {
        sfn,
        s3,
        config,
        logger,
        metrics,
        remainingMs: () => context.getRemainingTimeInMillis(),
      }),
    );

/** In Lambda: configuration from the environment, real clients. Built on the first
 * invocation (the cold start), so that importing this module reads nothing. */
const deployed = async () => {
  const tracing = await loadTracing('image-ingest');
  return createHandler({
    config: ingestConfig(),
    sfn: tracing.client(createSfnClient()),
    s3: tracing.client(createS3Client()),
    logger: createLogger('image-ingest'),
    metrics: createMetrics('image-ingest'),
    tracing,
  });
};
export const handler = onFirstInvocation(deployed);
