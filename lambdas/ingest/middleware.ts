/** The ingest's own middlewares: the request size guard and the JSON error responses. */
import type { Logger } from '@aws-lambda-powertools/logger';
import type middy from '@middy/core';
import type { APIGatewayProxyResult } from 'aws-lambda';
import {
  HttpError,
  PayloadTooLargeError,
  UnprocessableError,
  UnsupportedMediaTypeError,
  WorkflowTimeoutError,
} from './errors.ts';
import type { IngestEvent } from './event.ts';
import { json } from './responses.ts';
import { assertBodySize } from './uploads.ts';

/** Refuses an oversized body before anything parses it. */
export const requestSizeLimit = (maxBytes: number): middy.MiddlewareObj<IngestEvent> => ({
  before: (request) => assertBodySize(request.event, maxBytes),
});

/** What a 5xx says: its own message may name internals, so only the code and details go out. */
const SERVER_MESSAGES: Record<number, string> = {
  502: 'The analysis workflow failed.',
  503: 'The service is temporarily unable to take images; retry shortly.',
  504: 'The analysis did not finish in time.',
};

/** Errors from middy's own middlewares carry a status code; give them our codes and words. */
const fromMiddy = (
  error: { statusCode: number; message: string },
  event: IngestEvent,
): HttpError => {
  switch (error.statusCode) {
    case 413:
      return new PayloadTooLargeError('An image is larger than the request size limit.', {
        cause: error,
      });
    case 415:
      return new UnsupportedMediaTypeError(event.headers?.['content-type']);
    case 422:
      return new UnprocessableError(
        'MALFORMED_MULTIPART',
        'The multipart/form-data body could not be parsed.',
        {
          cause: error,
        },
      );
    default:
      return new HttpError(error.statusCode, 'BAD_REQUEST', 'The request could not be processed.', {
        cause: error,
      });
  }
};

/** middy's own early timeout, raised just before the Lambda would be killed. */
const isLambdaDeadline = (error: unknown) =>
  error instanceof Error &&
  error.name === 'TimeoutError' &&
  (error.cause as { package?: string } | undefined)?.package === '@middy/core';

export const toHttpError = (error: unknown, event: IngestEvent): HttpError => {
  if (error instanceof HttpError) return error;
  if (isLambdaDeadline(error)) return new WorkflowTimeoutError(undefined, { cause: error });
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return fromMiddy(error as { statusCode: number; message: string }, event);
  }
  return new HttpError(500, 'INTERNAL_ERROR', 'Internal error.', { cause: error });
};

/** The only place errors become HTTP responses: JSON, never a stack trace. */
export const jsonErrors = (
  logger: Logger,
): middy.MiddlewareObj<IngestEvent, APIGatewayProxyResult> => ({
  onError: (request) => {
    const error = toHttpError(request.error, request.event);
    if (error.statusCode >= 500)
      logger.error('request failed', {
        code: error.code,
        ...error.details,
        error: request.error as Error,
      });
    else
      logger.info('request refused', {
        status: error.statusCode,
        code: error.code,
        reason: error.message,
      });
    const message = error.expose
      ? error.message
      : (SERVER_MESSAGES[error.statusCode] ?? 'Internal error.');
    request.response = json(
      error.statusCode,
      { error: { code: error.code, message, ...error.details } },
      error.headers,
    );
  },
});
