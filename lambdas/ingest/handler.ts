/** The ingest Lambda behind API Gateway. Glue only: the work is in ingest.ts. */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import httpCors from '@middy/http-cors';
import httpEventNormalizer from '@middy/http-event-normalizer';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { createS3Client, createSfnClient } from '../shared/clients.ts';
import { ingestConfig } from '../shared/config.ts';
import { createLogger } from '../shared/logger.ts';
import { createMetrics, metricsMiddleware } from '../shared/metrics.ts';
import { loadTracing } from '../shared/tracer.ts';
import type { IngestEvent } from './event.ts';
import { requestIdOf } from './event.ts';
import { ingest } from './ingest.ts';
import { jsonErrors, requestSizeLimit } from './middleware.ts';
import { multipartForm } from './multipart.ts';

const config = ingestConfig();
const logger = createLogger('image-ingest');
const metrics = createMetrics('image-ingest');
const tracing = await loadTracing('image-ingest');
const sfn = tracing.client(createSfnClient());
const s3 = tracing.client(createS3Client());

export const handler = middy<IngestEvent, APIGatewayProxyResult>()
  .use(metricsMiddleware(metrics))
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
      methods: 'GET, POST, OPTIONS',
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
