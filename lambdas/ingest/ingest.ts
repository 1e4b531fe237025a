/**
 * One API request: route it, read its images, bound its work, stage them in S3, run the
 * workflow on their references (waiting for it, or not), shape the answer. Everything it
 * talks to is passed in, so tests run it against fakes or the local runtime.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { APIGatewayProxyResult } from 'aws-lambda';
import type { IngestConfig } from '../shared/config.ts';
import { recordBatch } from '../shared/metrics.ts';
import { errorOf, isRetryable, type View } from '../shared/workflow.ts';
import { mayHaveReached, NotStartedError, runBatch, serializeInput, startBatch } from './batch.ts';
import { largeBatch } from './batches.ts';
import { StagingFailedError, TooManyImagesError } from './errors.ts';
import {
  answerDeadline,
  basePathOf,
  type IngestEvent,
  methodOf,
  pathOf,
  prefersAsync,
} from './event.ts';
import { describeBatch } from './executions.ts';
import { assertPixelBudget, declaredPixels } from './pixels.ts';
import { json } from './responses.ts';
import { resolveRoute } from './routes.ts';
import { chunksFor, discardStaged, itemsFor, stageImages, stagingKey } from './staging.ts';
import { uploadsOf } from './uploads.ts';
import { renderBatch } from './views.ts';

export interface IngestDeps {
  sfn: SFNClient;
  s3: S3Client;
  config: IngestConfig;
  logger: Logger;
  /** Business metrics (EMF); tests may leave them out. */
  metrics?: Metrics;
  /** Milliseconds before the Lambda itself times out. */
  remainingMs: () => number;
}

/** Leaves time to answer once the workflow is given up on. */
const ANSWER_MARGIN_MS = 1000;

export const ingest = async (
  event: IngestEvent,
  deps: IngestDeps,
): Promise<APIGatewayProxyResult> => {
  const { sfn, config } = deps;
  const route = resolveRoute(methodOf(event), pathOf(event));
  if (route.kind === 'execution') {
    const view = await describeBatch(sfn, config.asyncStateMachineArn, route.id);
    return json(200, view, view.status === 'RUNNING' ? { 'Retry-After': '1' } : {});
  }
  if (route.kind === 'large-batch') return largeBatch(event, deps, route);

  const asyncRun = prefersAsync(event.headers?.prefer);
  const mode = asyncRun ? 'async' : 'sync';
  const { multipart, uploads } = uploadsOf(event);
  const limit = asyncRun ? config.maxImagesAsync : config.maxImagesSync;
  if (uploads.length > limit) throw new TooManyImagesError(limit, mode);
  // Each header is read once: for the budget, then for the chunks.
  const perImagePixels = uploads.map((upload) => declaredPixels(upload.content));
  const pixels = assertPixelBudget(
    perImagePixels,
    asyncRun ? config.maxPixelsAsync : config.maxPixelsSync,
    mode,
  );

  const name = randomUUID();
  // The sync caller waits until API Gateway's deadline; past it, nobody reads the results.
  const deadline = asyncRun
    ? null
    : answerDeadline(event, config.syncDeadlineMs, deps.remainingMs() - ANSWER_MARGIN_MS);
  const staged = { bucket: config.stagingBucket, key: stagingKey(name) };
  const chunks = chunksFor(itemsFor(uploads), perImagePixels);
  const input = serializeInput({
    request: { view: route.view, multipart },
    staged,
    deadline,
    chunks,
  });
  deps.logger.info('starting batch', {
    view: route.view,
    images: uploads.length,
    chunks: chunks.length,
    pixels,
    mode,
    executionName: name,
  });
  if (deps.metrics)
    recordBatch(deps.metrics, {
      images: uploads.length,
      stagedBytes: uploads.reduce((n, upload) => n + upload.content.length, 0),
    });
  try {
    await stageImages(deps.s3, staged, uploads);
  } catch (error) {
    throw new StagingFailedError({ cause: error });
  }

  try {
    return deadline === null
      ? await startAsync(event, deps, { input, name })
      : await runSync(deps, { input, name, view: route.view, deadline });
  } catch (error) {
    // The workflow did not start, failed, or was given up on: it may not have deleted them.
    // Unless an async start is still in doubt (no answer, and the run could not be looked up):
    // that run may exist, reads them and deletes them; the lifecycle rule is the backstop.
    if (deadline === null && !(error instanceof NotStartedError) && mayHaveReached(error))
      deps.logger.info('staged images left to the run, if it started', { executionName: name });
    else {
      const { deleted } = await discardStaged(deps.s3, staged);
      deps.logger.info('staged images discarded', { deleted });
    }
    throw unwrapNotStarted(error);
  }
};

/** A definite refusal is answered as the service's own error was. */
const unwrapNotStarted = (error: unknown) =>
  error instanceof NotStartedError ? error.cause : error;

const runSync = async (
  { sfn, config, logger }: IngestDeps,
  { input, name, view, deadline }: { input: string; name: string; view: View; deadline: number },
) => {
  const { executionArn, output } = await runBatch(sfn, {
    stateMachineArn: config.syncStateMachineArn,
    input,
    name,
    timeoutMs: Math.max(0, deadline - Date.now()),
  });
  logger.appendKeys({ executionArn });
  logger.info('batch finished', {
    view,
    images: output.results.length,
    failed: output.results.filter((record) => errorOf(record)).length,
    unavailable: output.results.filter(isRetryable).length,
  });
  return json(200, renderBatch(output), { 'X-Execution-Arn': executionArn });
};

const startAsync = async (
  event: IngestEvent,
  { sfn, config, logger }: IngestDeps,
  { input, name }: { input: string; name: string },
) => {
  const { executionArn, startDate } = await startBatch(sfn, {
    stateMachineArn: config.asyncStateMachineArn,
    input,
    name,
  });
  logger.appendKeys({ executionArn });
  logger.info('batch started');
  const location = `${basePathOf(event)}/executions/${name}`;
  return json(
    202,
    {
      executionId: name,
      executionArn,
      status: 'RUNNING',
      startDate: startDate.toISOString(),
      location,
    },
    {
      Location: location,
      'Preference-Applied': 'respond-async',
      'X-Execution-Arn': executionArn,
    },
  );
};
