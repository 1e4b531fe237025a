import type { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import type middy from '@middy/core';
import { tracingEnabled } from './config.ts';

export interface Tracing {
  /** Wraps an AWS SDK v3 client so each call becomes an X-Ray subsegment. */
  client: <T>(client: T) => T;
  /** The middy middleware that opens and closes the invocation's segment (none when off). */
  middleware: () => middy.MiddlewareObj[];
}

export const NO_TRACING: Tracing = { client: (c) => c, middleware: () => [] };

/**
 * X-Ray through Powertools' Tracer: a segment per invocation, a subsegment per AWS SDK call
 * (Step Functions, S3). Loaded only inside Lambda: the X-Ray SDK installs async hooks as soon
 * as it is imported, which would slow every promise of the local runtime and the tests for
 * traces nobody collects there.
 */
export const loadTracing = async (serviceName: string): Promise<Tracing> => {
  if (!tracingEnabled()) return NO_TRACING;
  const { Tracer } = await import('@aws-lambda-powertools/tracer');
  const tracer: Tracer = new Tracer({ serviceName, captureHTTPsRequests: false });
  return {
    client: (c) => tracer.captureAWSv3Client(c as never) as typeof c,
    middleware: () => [captureLambdaHandler(tracer, { captureResponse: false })],
  };
};
