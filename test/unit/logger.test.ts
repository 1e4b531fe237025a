/**
 * The functions' log lines, as Powertools writes them through the middy middleware: what
 * every line carries, and what it leaves to the log group.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../lambdas/shared/logger.ts';
import { lambdaContext } from '../support/events.ts';
import { jsonLines, useCapturedOutput } from '../support/output.ts';

const written = useCapturedOutput();
const lines = () => jsonLines(written);

/** A handler that logs once at INFO and once at ERROR, with its own keys. */
const handlerLogging = () => {
  vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'INFO');
  const logger = createLogger('image-ingest');
  vi.unstubAllEnvs();
  return middy(async () => {
    logger.info('starting batch', { images: 3 });
    logger.error('staging failed', { error: new Error('gone', { cause: new Error('NoSuchKey') }) });
  }).use(injectLambdaContext(logger));
};

describe('log lines', () => {
  it("carry level, time, service, request id and cold start, and their own keys, not the function's name, ARN or memory", async () => {
    const handler = handlerLogging();
    written.length = 0;
    await handler({}, lambdaContext());
    await handler({}, lambdaContext());
    const [first, error, warm] = lines();
    expect(first).toEqual({
      level: 'INFO',
      message: 'starting batch',
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      service: 'image-ingest',
      // Powertools tells cold from warm once per process, whichever logger asks first.
      cold_start: expect.any(Boolean),
      function_request_id: 'lambda-request-id',
      images: 3,
    });
    expect(warm).toMatchObject({ message: 'starting batch', cold_start: false });
    // An error is still written whole, its cause with it (Powertools' own error format).
    expect(error).toMatchObject({
      level: 'ERROR',
      error: { name: 'Error', message: 'gone', cause: { message: 'NoSuchKey' } },
    });
    for (const line of lines())
      for (const key of ['function_name', 'function_arn', 'function_memory_size', 'sampling_rate'])
        expect(line).not.toHaveProperty(key);
  });

  it('names the X-Ray trace when Lambda gives one', async () => {
    const handler = handlerLogging();
    // Lambda sets it per invocation; Powertools reads it for each line.
    vi.stubEnv(
      '_X_AMZN_TRACE_ID',
      'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1',
    );
    written.length = 0;
    await handler({}, lambdaContext());
    vi.unstubAllEnvs();
    expect(lines()[0]).toMatchObject({ xray_trace_id: '1-5759e988-bd862e3fe1be46a994272793' });
  });
});
