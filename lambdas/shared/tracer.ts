import { Tracer } from '@aws-lambda-powertools/tracer';

/** X-Ray through Powertools: a segment per invocation, a subsegment per AWS SDK call (Step
 * Functions, S3). Off outside Lambda, so the local runtime and the tests send nothing. */
export const createTracer = (serviceName: string): Tracer =>
  new Tracer({ serviceName, captureHTTPsRequests: false });
