/**
 * One API request: route it, read its images, bound its work, stage every image, run the
 * workflow on their references (waiting for it, or not), shape the answer. Everything it
 * talks to is passed in, so tests run it against fakes or the local runtime.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { APIGatewayProxyResult } from 'aws-lambda';
import type { IngestConfig } from '../shared/config.ts';
import { isFailure } from '../shared/types.ts';
import { isRetryable, type MapItem, type View } from '../shared/workflow.ts';
import { runBatch, serializeInput, startBatch } from './batch.ts';
import { StagingFailedError, TooManyImagesError } from './errors.ts';
import {
  basePathOf,
  type IngestEvent,
  methodOf,
  pathOf,
  prefersAsync,
  receivedAt,
} from './event.ts';
import { describeBatch } from './executions.ts';
import { assertPixelBudget } from './pixels.ts';
import { json } from './responses.ts';
import { resolveRoute } from './routes.ts';
import { discardStaged, itemsFor, stageImages } from './staging.ts';
import { type Upload, uploadsOf } from './uploads.ts';
import { renderBatch } from './views.ts';

export interface IngestDeps {
  sfn: SFNClient;
  s3: S3Client;
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
  const { sfn, config } = deps;
  const route = resolveRoute(methodOf(event), pathOf(event));
  if (route.kind === 'execution') {
    const view = await describeBatch(sfn, config.asyncStateMachineArn, route.id);
    return json(200, view, view.status === 'RUNNING' ? { 'Retry-After': '1' } : {});
  }

  const asyncRun = prefersAsync(event.headers?.prefer);
  const mode = asyncRun ? 'async' : 'sync';
  const { multipart, uploads } = uploadsOf(event);
  const limit = asyncRun ? config.maxImagesAsync : config.maxImagesSync;
  if (uploads.length > limit) throw new TooManyImagesError(limit, mode);
  const pixels = assertPixelBudget(
    uploads,
    asyncRun ? config.maxPixelsAsync : config.maxPixelsSync,
    mode,
  );

  const name = randomUUID();
  // The sync caller waits until API Gateway's deadline; past it, nobody reads the results.
  const deadline = asyncRun
    ? null
    : Math.min(
        receivedAt(event) + config.syncDeadlineMs,
        Date.now() + deps.remainingMs() - ANSWER_MARGIN_MS,
      );
  const items = itemsFor(uploads, { bucket: config.stagingBucket, executionName: name, deadline });
  const input = serializeInput({ request: { view: route.view, multipart }, items });
  deps.logger.info('starting batch', {
    view: route.view,
    images: uploads.length,
    pixels,
    mode,
    executionName: name,
  });
  await stage(deps, uploads, items);

  try {
    return deadline === null
      ? await startAsync(event, deps, { input, name })
      : await runSync(deps, { input, name, view: route.view, items, deadline });
  } catch (error) {
    // No workflow will read them (or it gave up): nothing staged is left behind.
    const { deleted } = await discardStaged(deps.s3, items);
    deps.logger.info('staged images discarded', { deleted });
    throw error;
  }
};

const stage = async ({ s3, logger }: IngestDeps, uploads: Upload[], items: MapItem[]) => {
  try {
    await stageImages(s3, uploads, items);
  } catch (error) {
    await discardStaged(s3, items);
    throw new StagingFailedError({ cause: error });
  }
  logger.info('images staged', { count: items.length });
};

const runSync = async (
  deps: IngestDeps,
  {
    input,
    name,
    view,
    items,
    deadline,
  }: { input: string; name: string; view: View; items: MapItem[]; deadline: number },
) => {
  const { sfn, config, logger, s3 } = deps;
  const { executionArn, output } = await runBatch(sfn, {
    stateMachineArn: config.syncStateMachineArn,
    input,
    name,
    timeoutMs: Math.max(0, deadline - Date.now()),
  });
  logger.appendKeys({ executionArn });
  const unavailable = output.results.filter(isRetryable);
  logger.info('batch finished', {
    view,
    images: output.imageCount,
    failed: output.results.filter(isFailure).length,
    unavailable: unavailable.length,
  });
  // An image the analyzer could not read may still be staged: no one else will delete it.
  if (unavailable.length) {
    const indexes = new Set(unavailable.map((r) => r.index));
    await discardStaged(
      s3,
      items.filter((i) => indexes.has(i.index)),
    );
  }
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
