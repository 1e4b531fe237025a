/**
 * One API request: route it, read its images, stage what does not fit inline, run the
 * workflow (waiting for it, or not), shape the answer. Everything it talks to is passed in,
 * so tests run it against fakes or the local runtime.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { STATE_PAYLOAD_BYTES } from '../shared/aws-limits.ts';
import type { IngestConfig } from '../shared/config.ts';
import { recordBatch } from '../shared/metrics.ts';
import { isFailure } from '../shared/types.ts';
import { runBatch, serializeInput, startBatch } from './batch.ts';
import { StagingFailedError, TooManyImagesError } from './errors.ts';
import { basePathOf, type IngestEvent, methodOf, pathOf, prefersAsync } from './event.ts';
import { describeBatch } from './executions.ts';
import { json } from './responses.ts';
import { resolveRoute, type View } from './routes.ts';
import { discardStaged, planBatch, type StagedImage, stageImages } from './staging.ts';
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

  const asyncRun = prefersAsync(event.headers?.prefer);
  const { multipart, uploads } = uploadsOf(event);
  const limit = asyncRun ? config.maxImagesAsync : config.maxImagesSync;
  if (uploads.length > limit) throw new TooManyImagesError(limit, asyncRun ? 'async' : 'sync');

  const name = randomUUID();
  const plan = planBatch(uploads, {
    budgetBytes: config.inlineBudgetBytes,
    bucket: config.stagingBucket,
    executionName: name,
  });
  const input = serializeInput(
    { request: { view: route.view, multipart }, items: plan.items },
    Math.max(STATE_PAYLOAD_BYTES, config.inlineBudgetBytes),
  );
  deps.logger.info('starting batch', {
    view: route.view,
    images: uploads.length,
    staged: plan.staged.length,
    mode: asyncRun ? 'async' : 'sync',
    executionName: name,
  });
  if (deps.metrics)
    recordBatch(deps.metrics, {
      images: uploads.length,
      stagedBytes: plan.staged.reduce((n, s) => n + s.upload.content.length, 0),
    });
  await stage(deps, plan.staged);

  try {
    return asyncRun
      ? await startAsync(event, deps, { input, name })
      : await runSync(deps, { input, name, view: route.view });
  } catch (error) {
    // No workflow will read them (or it gave up): nothing staged is left behind.
    const { deleted } = await discardStaged(deps.s3, config.stagingBucket, plan.staged);
    if (plan.staged.length) deps.logger.info('staged images discarded', { deleted });
    throw error;
  }
};

const stage = async ({ s3, config, logger }: IngestDeps, staged: StagedImage[]) => {
  if (staged.length === 0) return;
  try {
    await stageImages(s3, config.stagingBucket, staged);
  } catch (error) {
    await discardStaged(s3, config.stagingBucket, staged);
    throw new StagingFailedError({ cause: error });
  }
  logger.info('images staged', { count: staged.length });
};

const runSync = async (
  { sfn, config, logger, remainingMs }: IngestDeps,
  { input, name, view }: { input: string; name: string; view: View },
) => {
  const timeoutMs = Math.max(
    1000,
    Math.min(config.syncDeadlineMs, remainingMs() - ANSWER_MARGIN_MS),
  );
  const { executionArn, output } = await runBatch(sfn, {
    stateMachineArn: config.syncStateMachineArn,
    input,
    name,
    timeoutMs,
  });
  logger.appendKeys({ executionArn });
  logger.info('batch finished', {
    view,
    images: output.imageCount,
    failed: output.results.filter(isFailure).length,
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
