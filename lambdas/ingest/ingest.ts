/**
 * One API request: route it, read its images, run the workflow, shape the answer.
 * Everything it talks to is passed in, so tests run it against fakes or the local runtime.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { APIGatewayProxyResult } from 'aws-lambda';
import type { IngestConfig } from '../shared/config.ts';
import { isFailure } from '../shared/types.ts';
import { inlineItems, runBatch, serializeInput } from './batch.ts';
import { NotFoundError, TooManyImagesError } from './errors.ts';
import { type IngestEvent, methodOf, pathOf, prefersAsync } from './event.ts';
import { json } from './responses.ts';
import { resolveRoute } from './routes.ts';
import { uploadsOf } from './uploads.ts';
import { renderBatch } from './views.ts';

export interface IngestDeps {
  sfn: SFNClient;
  config: IngestConfig;
  logger: Logger;
  /** Milliseconds before the Lambda itself times out. */
  remainingMs: () => number;
}

/** Leaves time to answer once the workflow is given up on. */
const ANSWER_MARGIN_MS = 1000;

export const ingest = async (
  event: IngestEvent,
  deps: IngestDeps,
): Promise<APIGatewayProxyResult> => {
  const { sfn, config, logger } = deps;
  const route = resolveRoute(methodOf(event), pathOf(event));
  if (route.kind === 'execution') {
    throw new NotFoundError(`Unknown execution: ${route.id}`);
  }

  const asyncRun = prefersAsync(event.headers?.prefer);
  const { multipart, uploads } = uploadsOf(event);
  const limit = asyncRun ? config.maxImagesAsync : config.maxImagesSync;
  if (uploads.length > limit) throw new TooManyImagesError(limit, asyncRun ? 'async' : 'sync');

  const name = randomUUID();
  const input = serializeInput({
    request: { view: route.view, multipart },
    items: inlineItems(uploads),
  });
  logger.info('starting batch', { view: route.view, images: uploads.length, executionName: name });

  const timeoutMs = Math.max(
    1000,
    Math.min(config.syncDeadlineMs, deps.remainingMs() - ANSWER_MARGIN_MS),
  );
  const { executionArn, output } = await runBatch(sfn, {
    stateMachineArn: config.syncStateMachineArn,
    input,
    name,
    timeoutMs,
  });
  logger.appendKeys({ executionArn });
  logger.info('batch finished', {
    images: output.imageCount,
    failed: output.results.filter(isFailure).length,
  });
  return json(200, renderBatch(output), { 'X-Execution-Arn': executionArn });
};
