/**
 * The ingest's errors. Only the error-handling middleware (middleware.ts) turns them into
 * HTTP responses: `{ "error": { "code", "message", ...details } }`.
 */
export interface HttpErrorOptions {
  cause?: unknown;
  /** Safe to show even on a 5xx (an execution ARN, a limit). */
  details?: Record<string, unknown>;
  headers?: Record<string, string>;
}

export class HttpError extends Error {
  readonly statusCode: number;
  readonly code: string;
  /** Client errors carry messages written for the client; server errors do not. */
  readonly expose: boolean;
  readonly details: Record<string, unknown>;
  readonly headers: Record<string, string>;

  constructor(statusCode: number, code: string, message: string, options: HttpErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.statusCode = statusCode;
    this.code = code;
    this.expose = statusCode < 500;
    this.details = options.details ?? {};
    this.headers = options.headers ?? {};
  }
}

export class EmptyBodyError extends HttpError {
  constructor() {
    super(
      400,
      'EMPTY_BODY',
      'The request body is empty: send an image, or multipart/form-data with "image" parts.',
    );
  }
}

export class NotFoundError extends HttpError {
  constructor(message: string, options?: HttpErrorOptions) {
    super(404, 'NOT_FOUND', message, options);
  }
}

export class MethodNotAllowedError extends HttpError {
  constructor(method: string, allowed: readonly string[]) {
    super(405, 'METHOD_NOT_ALLOWED', `${method} is not allowed here; use ${allowed.join(', ')}.`, {
      headers: { Allow: allowed.join(', ') },
    });
  }
}

export class PayloadTooLargeError extends HttpError {
  constructor(message: string, options?: HttpErrorOptions) {
    super(413, 'PAYLOAD_TOO_LARGE', message, options);
  }
}

export class TooManyImagesError extends HttpError {
  constructor(limit: number, mode: 'sync' | 'async') {
    super(
      413,
      'TOO_MANY_IMAGES',
      `At most ${limit} images per ${mode === 'sync' ? 'synchronous' : 'asynchronous'} request.`,
      {
        details: { limit },
      },
    );
  }
}

export class UnsupportedMediaTypeError extends HttpError {
  constructor(contentType: string | undefined) {
    super(
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      `Content-Type ${contentType ? `"${contentType}"` : '(none)'} is not accepted: send multipart/form-data with "image" parts, or one image as image/* or application/octet-stream.`,
    );
  }
}

export class UnprocessableError extends HttpError {
  constructor(
    code: 'NO_IMAGE' | 'MALFORMED_MULTIPART' | 'FIELD_TOO_LONG',
    message: string,
    options?: HttpErrorOptions,
  ) {
    super(422, code, message, options);
  }
}

/** The workflow ran and failed as a whole (single images never fail it: they carry errors). */
export class WorkflowFailedError extends HttpError {
  constructor(
    executionArn: string | undefined,
    error: string | undefined,
    options: HttpErrorOptions = {},
  ) {
    super(502, 'WORKFLOW_FAILED', `The analysis workflow failed (${error ?? 'unknown error'}).`, {
      ...options,
      details: { executionArn, workflowError: error },
    });
  }
}

export class WorkflowTimeoutError extends HttpError {
  constructor(executionArn: string | undefined, options: HttpErrorOptions = {}) {
    super(504, 'WORKFLOW_TIMED_OUT', 'The analysis did not finish in time.', {
      ...options,
      details: {
        executionArn,
        hint: 'Send the batch with "Prefer: respond-async" and poll the execution.',
      },
    });
  }
}

/** The staging bucket refused the images: nothing was started. */
export class StagingFailedError extends HttpError {
  constructor(options: HttpErrorOptions = {}) {
    super(503, 'STAGING_FAILED', 'The images could not be staged for analysis.', {
      ...options,
      headers: { 'Retry-After': '5', ...options.headers },
    });
  }
}

/** The images declare more pixels than a request may decode: work is bounded per request. */
export class PixelBudgetError extends HttpError {
  constructor(pixels: number, limit: number, mode: 'sync' | 'async') {
    super(
      413,
      'PIXEL_BUDGET_EXCEEDED',
      `The images declare ${pixels} pixels in all; a ${mode === 'sync' ? 'synchronous' : 'asynchronous'} request may declare at most ${limit}.`,
      {
        details: {
          limit,
          pixels,
          ...(mode === 'sync' && {
            hint: 'Send the batch with "Prefer: respond-async" (a larger budget), or split it.',
          }),
        },
      },
    );
  }
}

/** /shape and /nbytes cannot answer the batch without saying something untrue of some images:
 * `[]` would claim they are not images. Its two causes below; an async run reports either as
 * its error (executions.ts). */
export abstract class UnanswerableBatchError extends HttpError {}

/** Some images could not be analyzed for a reason of the platform (storage, invocation): the
 * batch is not answered half true; sending it again may succeed. */
export class ImagesUnavailableError extends UnanswerableBatchError {
  constructor(indexes: number[], options: HttpErrorOptions = {}) {
    super(503, 'ANALYSIS_FAILED', 'Some images could not be analyzed; send the batch again.', {
      ...options,
      details: { retryable: true, indexes },
      headers: { 'Retry-After': '2', ...options.headers },
    });
  }
}

/** Our own analysis crashed on some images (a defect, logged by the analysis function, or an
 * invocation that failed without a platform error): we do not know what the original would
 * have answered, so neither `[]` nor "send it again" is true. */
export class ImagesNotAnalyzedError extends UnanswerableBatchError {
  constructor(indexes: number[]) {
    super(500, 'ANALYSIS_FAILED', 'Some images could not be analyzed.', {
      details: { retryable: false, indexes },
    });
  }
}

/** A POST /batches declaration or a /batches query that cannot be taken (422, 413, 415, 400). */
export class InvalidBatchError extends HttpError {
  constructor(
    statusCode: 400 | 413 | 415 | 422,
    code: string,
    message: string,
    details: Record<string, unknown> = {},
  ) {
    super(statusCode, code, message, { details });
  }
}

/** The batch's run has not succeeded (yet): no results to page. */
export class BatchNotFinishedError extends HttpError {
  constructor(status: string) {
    super(
      409,
      'BATCH_NOT_FINISHED',
      status === 'RUNNING'
        ? 'The batch is still running; poll GET /batches/{id} until it has SUCCEEDED.'
        : `The batch has no results: its run ended ${status}.`,
      { details: { status }, headers: status === 'RUNNING' ? { 'Retry-After': '5' } : {} },
    );
  }
}

/** The stack has no large-batch workflow configured (LARGE_BATCH_STATE_MACHINE_ARN). */
export class LargeBatchUnavailableError extends HttpError {
  constructor() {
    super(503, 'LARGE_BATCHES_UNAVAILABLE', 'Large batches are not configured on this stack.');
  }
}

/** The run ended but its records cannot be served as they should be (no ResultWriter output,
 * or records that do not match the declaration one to one): a fault of ours, logged with what
 * was wrong, never answered with wrong data. */
export class BatchResultsError extends HttpError {
  constructor(batchId: string, problem: string) {
    super(500, 'BATCH_RESULTS_UNAVAILABLE', `The results of batch ${batchId}: ${problem}`, {
      details: { batchId },
    });
  }
}

/** DELETE /batches/{id} cancelled the batch: it cannot be started, given forms or read. */
export class BatchCancelledError extends HttpError {
  constructor(batchId: string, cancelledAt: string) {
    super(
      410,
      'BATCH_CANCELLED',
      `Batch ${batchId} was cancelled at ${cancelledAt}: declare a new batch.`,
      { details: { batchId, cancelledAt } },
    );
  }
}

/** DELETE of a batch whose run has ended: nothing runs, nothing is called off or deleted. */
export class BatchFinishedError extends HttpError {
  constructor(batchId: string, status: string) {
    super(
      409,
      'BATCH_FINISHED',
      `Batch ${batchId} has finished (${status}): there is nothing to cancel. Its results, if any, stay readable until the bucket's lifecycle rule removes them, a week after they were written.`,
      { details: { batchId, status } },
    );
  }
}
