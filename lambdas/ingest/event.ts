/** What the ingest reads from API Gateway's REST (v1) and HTTP API (v2) proxy events. */
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2 } from 'aws-lambda';
import type { MultipartBody } from './multipart.ts';

export type IngestEvent = (
  | Omit<APIGatewayProxyEvent, 'body'>
  | Omit<APIGatewayProxyEventV2, 'body'>
) & {
  /** A string as API Gateway sends it, or the parsed parts once the multipart middleware ran. */
  body?: string | MultipartBody | null;
};

export const methodOf = (event: IngestEvent): string =>
  'httpMethod' in event ? event.httpMethod : event.requestContext.http.method;

/** The route path: HTTP APIs put a named stage in rawPath; REST APIs leave it out of path. */
export const pathOf = (event: IngestEvent): string => {
  if ('path' in event && typeof event.path === 'string') return event.path;
  const v2 = event as APIGatewayProxyEventV2;
  const stage = v2.requestContext.stage;
  const prefix = `/${stage}`;
  const raw = v2.rawPath;
  return stage && stage !== '$default' && raw.startsWith(`${prefix}/`)
    ? raw.slice(prefix.length)
    : raw;
};

export const requestIdOf = (event: IngestEvent): string | undefined =>
  event.requestContext.requestId;

/** The media type without parameters, lower-cased: `multipart/form-data; boundary=x` → `multipart/form-data`. */
export const mediaTypeOf = (contentType: string | undefined): string =>
  (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';

/** RFC 7240: `Prefer: respond-async` (other preferences may sit beside it). */
export const prefersAsync = (prefer: string | undefined): boolean =>
  (prefer ?? '').split(',').some((p) => p.split(';')[0]?.trim().toLowerCase() === 'respond-async');

/** The path prefix the client called the API under (`/prod` on an execute-api URL, a base path
 * on a custom domain, nothing locally), for links that must work from the client's side. */
export const basePathOf = (event: IngestEvent): string => {
  const route = pathOf(event);
  const called =
    'httpMethod' in event
      ? (event.requestContext.path ?? route)
      : (event as APIGatewayProxyEventV2).rawPath;
  return called.endsWith(route) ? called.slice(0, called.length - route.length) : '';
};

/** When API Gateway received the request (epoch ms): its 29 s run from there, not from when
 * the Lambda got to the event. Unknown (a test's hand-made event) means now. */
const receivedAt = (event: IngestEvent, now = Date.now()): number => {
  const context = event.requestContext as { requestTimeEpoch?: unknown; timeEpoch?: unknown };
  const epoch = context.requestTimeEpoch ?? context.timeEpoch;
  return typeof epoch === 'number' && epoch > 0 && epoch <= now ? epoch : now;
};

/** When a synchronous caller stops listening (epoch ms): API Gateway's deadline, counted from
 * its receipt of the request, or `lambdaMs` from now (what the Lambda has left, less any
 * margin to answer in), whichever is first. */
export const answerDeadline = (event: IngestEvent, syncDeadlineMs: number, lambdaMs: number) =>
  Math.min(receivedAt(event) + syncDeadlineMs, Date.now() + lambdaMs);
