/**
 * The large-batch API: a batch is declared (POST /batches), its images go straight to S3 by
 * presigned POST forms (never through API Gateway or Lambda), and POST /batches/{id}/start
 * runs the Distributed Map workflow over them; GET /batches/{id} follows its Map Run and
 * GET /batches/{id}/results pages its records; DELETE /batches/{id} calls it off
 * (batch-cancel.ts). State lives in S3 (batch-store.ts) and in the
 * execution itself, named by the batch id.
 */
import { randomUUID } from 'node:crypto';
import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  DescribeMapRunCommand,
  ListMapRunsCommand,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { BATCH_LIMITS } from '../shared/config.ts';
import type { LargeBatchInput, MapItem, NotUploadedRecord } from '../shared/workflow.ts';
import { cancelBatch, stopCancelledRun } from './batch-cancel.ts';
import { recordsBetween, renderRecord } from './batch-results.ts';
import {
  BATCH_ID,
  batchKeys,
  type Declaration,
  declaredIdentity,
  getText,
  putJson,
  putJsonOnce,
  readCancellation,
  readDeclaration,
  uploadedIndexes,
} from './batch-store.ts';
import { parseDeclaration } from './declaration.ts';
import {
  BatchCancelledError,
  BatchNotFinishedError,
  BatchResultsError,
  LargeBatchUnavailableError,
  NotFoundError,
} from './errors.ts';
import { basePathOf, type IngestEvent } from './event.ts';
import { executionArnFor } from './executions.ts';
import type { IngestDeps } from './ingest.ts';
import { presignUpload } from './presign.ts';
import { queryInteger } from './query.ts';
import { json } from './responses.ts';
import type { LargeBatchAction } from './routes.ts';

type Deps = Pick<IngestDeps, 'sfn' | 's3' | 'config' | 'logger' | 'remainingMs'>;

export const largeBatch = (
  event: IngestEvent,
  deps: Deps,
  { action, id }: { action: LargeBatchAction; id: string },
): Promise<APIGatewayProxyResult> => {
  if (action === 'create') return createBatch(event, deps);
  if (!BATCH_ID.test(id)) throw new NotFoundError(`Unknown batch: ${id}`);
  switch (action) {
    case 'cancel':
      return cancelBatch(event, deps, id, () => execution(deps, id));
    case 'uploads':
      return uploadsPage(event, deps, id);
    case 'start':
      return startBatch(event, deps, id);
    case 'results':
      return resultsPage(event, deps, id);
    default:
      return describe(event, deps, id);
  }
};

const linksFor = (event: IngestEvent, id: string) => {
  const base = `${basePathOf(event)}/batches/${id}`;
  return {
    self: base,
    start: `${base}/start`,
    uploads: (cursor: number) => `${base}/uploads?cursor=${cursor}`,
  };
};

/** Presigned forms for images [from, from + page): every form expires at the same time. */
const formsFrom = async (
  { s3, config }: Deps,
  id: string,
  images: { contentType: string; bytes: number; filename: string | null }[],
  from: number,
) => {
  const expiresSeconds = BATCH_LIMITS.uploadExpirySeconds;
  const expiresAt = new Date(Date.now() + expiresSeconds * 1000).toISOString();
  const to = Math.min(images.length, from + BATCH_LIMITS.uploadsPerPage);
  const uploads = await Promise.all(
    images.slice(from, to).map((image, i) =>
      presignUpload(s3, {
        bucket: config.stagingBucket,
        key: batchKeys(id).upload(from + i),
        index: from + i,
        image,
        expiresSeconds,
      }),
    ),
  );
  return { expiresAt, uploads, next: to < images.length ? to : null };
};

const createBatch = async (event: IngestEvent, deps: Deps) => {
  const { view, images } = parseDeclaration(event);
  const id = randomUUID();
  await putJson(
    deps.s3,
    deps.config.stagingBucket,
    batchKeys(id).declaration,
    JSON.stringify({ view, createdAt: new Date().toISOString(), images }),
  );
  const { expiresAt, uploads, next } = await formsFrom(deps, id, images, 0);
  deps.logger.info('batch declared', { batchId: id, view, images: images.length });
  const links = linksFor(event, id);
  return json(
    201,
    {
      batchId: id,
      expiresAt,
      uploads,
      nextUploads: next === null ? null : links.uploads(next),
      start: links.start,
    },
    { Location: links.self },
  );
};

/** A cancelled batch is given no forms, no start and no results (410). */
const assertNotCancelled = async ({ s3, config }: Deps, id: string) => {
  const cancellation = await readCancellation(s3, config.stagingBucket, id);
  if (cancellation) throw new BatchCancelledError(id, cancellation.cancelledAt);
};

const uploadsPage = async (event: IngestEvent, deps: Deps, id: string) => {
  await assertNotCancelled(deps, id);
  const { images } = await readDeclaration(deps.s3, deps.config.stagingBucket, id);
  const cursor = queryInteger(event, 'cursor', { min: 0, max: images.length, default: 0 });
  const { expiresAt, uploads, next } = await formsFrom(deps, id, images, cursor);
  return json(200, {
    batchId: id,
    expiresAt,
    uploads,
    nextCursor: next === null ? null : String(next),
  });
};

const machineArn = ({ config }: Deps) => {
  if (!config.largeBatchStateMachineArn) throw new LargeBatchUnavailableError();
  return config.largeBatchStateMachineArn;
};

/** Child batches a run analyzes at once: large batches are configured by both or not at all. */
const maxConcurrency = ({ config }: Deps) => {
  if (!config.largeBatchMaxConcurrency) throw new LargeBatchUnavailableError();
  return config.largeBatchMaxConcurrency;
};

/** The batch's execution, or undefined before it was started. */
const execution = async (deps: Deps, id: string) => {
  try {
    return await deps.sfn.send(
      new DescribeExecutionCommand({ executionArn: executionArnFor(machineArn(deps), id) }),
    );
  } catch (error) {
    if ((error as Error).name === 'ExecutionDoesNotExist') return undefined;
    throw error;
  }
};

const started = (event: IngestEvent, id: string, d: { executionArn?: string; status?: string }) => {
  const { self } = linksFor(event, id);
  return json(
    202,
    { batchId: id, executionArn: d.executionArn, status: d.status ?? 'RUNNING' },
    { Location: self, 'X-Execution-Arn': d.executionArn ?? '' },
  );
};

/** Images per analysis invocation: up to 100, fewer when the images are large on average. */
export const imagesPerInvocation = (bytes: number, images: number) => {
  const mean = images ? bytes / images : 0;
  const fit = Math.floor(BATCH_LIMITS.bytesPerInvocation / Math.max(mean, 1));
  return Math.max(1, Math.min(BATCH_LIMITS.maxImagesPerInvocation, fit));
};

/** The Map items of the uploaded images (one JSONL line each) and the records of the others. */
const splitDeclared = (
  bucket: string,
  id: string,
  declaration: Declaration,
  uploaded: Set<number>,
) => {
  const lines: string[] = [];
  let uploadedBytes = 0;
  const missing: NotUploadedRecord[] = [];
  declaration.images.forEach((image, index) => {
    const identity = declaredIdentity(image, index);
    if (uploaded.has(index)) {
      const item: MapItem = {
        ...identity,
        size: image.bytes,
        object: { bucket, key: batchKeys(id).upload(index) },
        offset: 0,
        deadline: null,
      };
      lines.push(JSON.stringify(item));
      uploadedBytes += image.bytes;
    } else {
      missing.push({
        ...identity,
        bytes: image.bytes,
        error: {
          code: 'NOT_UPLOADED',
          message: 'The image was not uploaded before the batch started.',
          retryable: false,
        },
      });
    }
  });
  return { lines, uploadedBytes, missing };
};

/** Writes the manifest of the uploaded images and the records of the others, then starts the
 * run named by the batch id. Starting again answers the run already there.
 *
 * Two starts can race past the "already started?" check. The manifest is written only if
 * absent (S3's conditional write), so the first start's manifest is the batch's: a start that
 * finds one reads it back and derives the same not-uploaded records and the same execution
 * input from it — never a second listing that would give an image no record or two. That also
 * lets a start retried after a crash between the write and StartExecution finish the job. */
const startBatch = async (event: IngestEvent, deps: Deps, id: string) => {
  const stateMachineArn = machineArn(deps);
  const childBatchesAtOnce = maxConcurrency(deps);
  await assertNotCancelled(deps, id);
  const existing = await execution(deps, id);
  if (existing) return started(event, id, existing);

  const bucket = deps.config.stagingBucket;
  const keys = batchKeys(id);
  const declaration = await readDeclaration(deps.s3, bucket, id);
  let split = splitDeclared(bucket, id, declaration, await uploadedIndexes(deps.s3, bucket, id));
  const manifest = split.lines.length ? `${split.lines.join('\n')}\n` : '';
  if (!(await putJsonOnce(deps.s3, bucket, keys.manifest, manifest))) {
    const stored = (await getText(deps.s3, bucket, keys.manifest)) ?? '';
    const indexes = stored
      .split('\n')
      .filter(Boolean)
      .map((line) => (JSON.parse(line) as MapItem).index);
    split = splitDeclared(bucket, id, declaration, new Set(indexes));
    deps.logger.info('batch manifest already written by another start', { batchId: id });
  }
  const { lines, uploadedBytes, missing } = split;
  // Derived from the manifest alone: a second start's copy would be the same bytes.
  await putJsonOnce(deps.s3, bucket, keys.notUploaded, JSON.stringify(missing));
  const input: LargeBatchInput = {
    manifest: { bucket, key: keys.manifest },
    results: { bucket, prefix: keys.results },
    batching: {
      maxItems: imagesPerInvocation(uploadedBytes, lines.length),
      maxConcurrency: childBatchesAtOnce,
    },
    view: declaration.view,
    images: declaration.images.length,
    notUploaded: missing.length,
  };
  try {
    const run = await deps.sfn.send(
      new StartExecutionCommand({ stateMachineArn, name: id, input: JSON.stringify(input) }),
    );
    await stopIfCancelledMeanwhile(deps, id, run.executionArn);
    deps.logger.info('batch started', {
      batchId: id,
      images: lines.length,
      notUploaded: missing.length,
    });
    return started(event, id, { executionArn: run.executionArn, status: 'RUNNING' });
  } catch (error) {
    // Two starts raced: the other one's run is the batch's run.
    if ((error as Error).name !== 'ExecutionAlreadyExists') throw error;
    return started(event, id, (await execution(deps, id)) ?? {});
  }
};

/** A DELETE that came between this start's check and its StartExecution may have missed the
 * run (batch-cancel.ts looks for it once more, after this start's check): stop it here. */
const stopIfCancelledMeanwhile = async (deps: Deps, id: string, executionArn?: string) => {
  const cancellation = await readCancellation(deps.s3, deps.config.stagingBucket, id);
  if (!cancellation) return;
  await stopCancelledRun(deps.sfn, id, executionArn);
  throw new BatchCancelledError(id, cancellation.cancelledAt);
};

const inputOf = (d: DescribeExecutionCommandOutput) =>
  JSON.parse(d.input ?? '{}') as LargeBatchInput;

/** The run's Map Run (its only one), or undefined before the Map state began. */
const mapRunOf = async ({ sfn }: Deps, d: DescribeExecutionCommandOutput) => {
  const { mapRuns } = await sfn.send(new ListMapRunsCommand({ executionArn: d.executionArn }));
  return mapRuns?.[0]?.mapRunArn;
};

/** Progress from the Map Run's item counts, which count items (images), not the batches the
 * ItemBatcher made of them: https://docs.aws.amazon.com/step-functions/latest/apireference/API_MapRunItemCounts.html */
const describe = async (event: IngestEvent, deps: Deps, id: string) => {
  const d = await execution(deps, id);
  // Cancelled: before its start, or its run stopped by the DELETE.
  if (!d || d.status === 'ABORTED') {
    const cancellation = await readCancellation(deps.s3, deps.config.stagingBucket, id);
    if (cancellation)
      return json(200, {
        batchId: id,
        status: 'CANCELLED',
        cancelledAt: cancellation.cancelledAt,
        executionArn: d?.executionArn ?? null,
      });
  }
  if (!d) {
    const { images } = await readDeclaration(deps.s3, deps.config.stagingBucket, id);
    return json(200, {
      batchId: id,
      status: 'CREATED',
      images: images.length,
      start: linksFor(event, id).start,
    });
  }
  const mapRunArn = await mapRunOf(deps, d);
  const counts = mapRunArn
    ? (await deps.sfn.send(new DescribeMapRunCommand({ mapRunArn }))).itemCounts
    : undefined;
  const input = inputOf(d);
  const status = d.status ?? 'RUNNING';
  return json(
    200,
    {
      batchId: id,
      status,
      executionArn: d.executionArn,
      mapRunArn: mapRunArn ?? null,
      progress: {
        total: counts?.total ?? input.images - input.notUploaded,
        succeeded: counts?.succeeded ?? 0,
        failed: (counts?.failed ?? 0) + (counts?.timedOut ?? 0) + (counts?.aborted ?? 0),
        pending: counts?.pending ?? input.images - input.notUploaded,
        running: counts?.running ?? 0,
        notUploaded: input.notUploaded,
      },
      startDate: d.startDate?.toISOString(),
      ...(d.stopDate && { stopDate: d.stopDate.toISOString() }),
    },
    status === 'RUNNING' ? { 'Retry-After': '5' } : {},
  );
};

/** Where the run's ResultWriter put its manifest, and for a FAILED run the declaration: a run
 * that failed past its ToleratedFailurePercentage still wrote the files of the children that
 * ran (`<prefix>/<map run id>/manifest.json`, the id being the Map Run ARN's last segment).
 * https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html */
const resultFiles = async (deps: Deps, id: string, d: DescribeExecutionCommandOutput) => {
  const keys = batchKeys(id);
  if (d.status === 'SUCCEEDED') {
    const output = JSON.parse(d.output ?? '{}') as { ResultWriterDetails?: { Key?: string } };
    const manifestKey = output.ResultWriterDetails?.Key;
    if (!manifestKey)
      throw new BatchResultsError(id, 'the run succeeded without ResultWriterDetails.Key.');
    return { manifestKey, prefix: keys.results, unrun: undefined };
  }
  if (d.status !== 'FAILED') throw new BatchNotFinishedError(d.status ?? 'RUNNING');
  const mapRunArn = await mapRunOf(deps, d);
  const bucket = deps.config.stagingBucket;
  const manifestKey = mapRunArn
    ? `${keys.results}/${mapRunArn.slice(mapRunArn.lastIndexOf(':') + 1)}/manifest.json`
    : undefined;
  // Failed before its Map Run wrote anything (the manifest unreadable, say): nothing to serve.
  if (!manifestKey || !(await getText(deps.s3, bucket, manifestKey)))
    throw new BatchNotFinishedError('FAILED');
  // Pages of their own: a redriven run that then succeeds must not be served these. The
  // declaration is read only when the pages are written.
  const unrun = async () => (await readDeclaration(deps.s3, bucket, id)).images;
  return { manifestKey, prefix: `${keys.results}/failed`, unrun };
};

/** Records in upload order; the cursor is the position of the next record (opaque to clients).
 * A FAILED run's records are served too: its failed children's images as retryable
 * ANALYSIS_FAILED. */
const resultsPage = async (event: IngestEvent, deps: Deps, id: string) => {
  const d = await execution(deps, id);
  if (!d || d.status === 'ABORTED') await assertNotCancelled(deps, id);
  if (!d) {
    await readDeclaration(deps.s3, deps.config.stagingBucket, id);
    throw new BatchNotFinishedError('CREATED');
  }
  const limit = queryInteger(event, 'limit', {
    min: 1,
    max: BATCH_LIMITS.maxResultsPerPage,
    default: BATCH_LIMITS.maxResultsPerPage,
  });
  const input = inputOf(d);
  const cursor = queryInteger(event, 'cursor', { min: 0, max: input.images, default: 0 });
  const files = await resultFiles(deps, id, d);
  // Every declared image has one record: the uploaded ones from the workflow, the others
  // NOT_UPLOADED; positions are indexes.
  const end = Math.min(input.images, cursor + limit);
  const records = await recordsBetween(
    deps.s3,
    {
      batchId: id,
      images: input.images,
      bucket: deps.config.stagingBucket,
      prefix: files.prefix,
      manifestKey: files.manifestKey,
      notUploadedKey: batchKeys(id).notUploaded,
      unrun: files.unrun,
    },
    cursor,
    end,
  );
  return json(200, {
    items: records.map((record) => renderRecord(input.view, record)),
    nextCursor: end < input.images ? String(end) : null,
  });
};
