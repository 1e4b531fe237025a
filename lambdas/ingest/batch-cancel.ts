/**
 * DELETE /batches/{id}: calls a batch off and deletes what it uploaded.
 *
 * - Not started: marks it cancelled, deletes its uploads, declaration and manifest.
 * - Running: the same, after StopExecution of its run (it and its Map Run end ABORTED; an
 *   Express child already under way may run on, its analysis finding the uploads gone). What the run's ResultWriter already wrote under `results/<id>/` is not deleted:
 *   it expires with its lifecycle rule, and is not served (the run ended ABORTED).
 * - Finished (any status but RUNNING, not cancelled here): 409, nothing is touched — there is
 *   nothing to call off, and the results are what the user paid for.
 *
 * The mark (`batches/<id>/cancelled.json`) is written first and makes every later start,
 * forms page and results page answer 410; every DELETE then does the whole job again (stop
 * what runs, delete what is there), so a second one finishes what a first one could not: a
 * crash, more objects than one request deletes (202), an image uploaded afterwards with a form
 * handed out before (S3 cannot revoke a signed policy: forms stay valid until they expire,
 * at most 15 minutes after the cancellation, since no form is handed out after it).
 */
import {
  type DescribeExecutionCommandOutput,
  type SFNClient,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { BATCH_LIMITS } from '../shared/config.ts';
import {
  deleteBatchPage,
  markCancelled,
  readCancellation,
  readDeclaration,
} from './batch-store.ts';
import { BatchFinishedError } from './errors.ts';
import { answerDeadline, basePathOf, type IngestEvent } from './event.ts';
import type { IngestDeps } from './ingest.ts';
import { json } from './responses.ts';

type Deps = Pick<IngestDeps, 'sfn' | 's3' | 'config' | 'logger' | 'remainingMs'>;

/** The batch's run, or undefined before it was started. */
type DescribeRun = () => Promise<DescribeExecutionCommandOutput | undefined>;

/** Stops the batch's run as cancelled: here, and in a start that finds the mark after its
 * StartExecution (batches.ts). */
export const stopCancelledRun = (sfn: SFNClient, id: string, executionArn: string | undefined) =>
  sfn.send(
    new StopExecutionCommand({
      executionArn,
      error: 'BatchCancelled',
      cause: `DELETE /batches/${id}`,
    }),
  );

/** Stops the run if it is running; answers its ARN when there is one. */
const stopRun = async (deps: Deps, describeRun: DescribeRun, id: string) => {
  const run = await describeRun();
  if (run?.status === 'RUNNING') {
    await stopCancelledRun(deps.sfn, id, run.executionArn);
    deps.logger.info('batch run stopped', { batchId: id, executionArn: run.executionArn });
  }
  return run?.executionArn;
};

/** Deletes pages of the batch's objects while the request has room: at most
 * cancelPagesPerRequest, none started past the sync deadline less cancelPageMs. */
const deleteWhileTimeAllows = async (event: IngestEvent, deps: Deps, id: string) => {
  const deadline = answerDeadline(event, deps.config.syncDeadlineMs, deps.remainingMs());
  let images = 0;
  for (let pages = 0; pages < BATCH_LIMITS.cancelPagesPerRequest; pages++) {
    if (pages > 0 && Date.now() > deadline - BATCH_LIMITS.cancelPageMs) break;
    const page = await deleteBatchPage(deps.s3, deps.config.stagingBucket, id);
    images += page.images;
    if (!page.more) return { images, complete: true };
  }
  return { images, complete: false };
};

export const cancelBatch = async (
  event: IngestEvent,
  deps: Deps,
  id: string,
  describeRun: DescribeRun,
): Promise<APIGatewayProxyResult> => {
  const bucket = deps.config.stagingBucket;
  if (!(await readCancellation(deps.s3, bucket, id))) {
    const run = await describeRun();
    if (run && run.status !== 'RUNNING') throw new BatchFinishedError(id, run.status ?? '');
    // Neither started nor declared: unknown (404).
    if (!run) await readDeclaration(deps.s3, bucket, id);
  }
  const { cancelledAt } = await markCancelled(deps.s3, bucket, id);
  let executionArn = await stopRun(deps, describeRun, id);
  const { images, complete } = await deleteWhileTimeAllows(event, deps, id);
  // A start that passed its check before the mark was written may have started a run since;
  // a start that comes later finds the mark (and stops its own run, batches.ts).
  executionArn ??= await stopRun(deps, describeRun, id);
  deps.logger.info('batch cancelled', { batchId: id, deletedImages: images, complete });
  const self = `${basePathOf(event)}/batches/${id}`;
  return json(
    complete ? 200 : 202,
    {
      batchId: id,
      status: 'CANCELLED',
      cancelledAt,
      deleted: images,
      complete,
      executionArn: executionArn ?? null,
      ...(!complete && {
        message: `More objects are left than one request deletes: DELETE ${self} again to go on.`,
      }),
    },
    { Location: self },
  );
};
