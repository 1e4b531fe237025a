/**
 * A local API Gateway (REST API, Lambda proxy integration, binary media types): real HTTP in,
 * the proxy event API Gateway would build, the ingest handler invoked in-process, its result
 * written back. API Gateway's limits apply: 10 MB request, 6 MB Lambda event, 29 s.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { mediaTypeOf } from '../lambdas/ingest/event.ts';
import {
  BINARY_MEDIA_TYPES,
  GATEWAY_RESPONSES,
  type GatewayResponseType,
  gatewayErrorBody,
  matchRoute,
} from '../lambdas/ingest/routes.ts';
import { API_GATEWAY_PAYLOAD_BYTES, API_GATEWAY_TIMEOUT_MS } from '../lambdas/shared/aws-limits.ts';
import { DeadlineExceededError, withDeadline } from '../lambdas/shared/deadline.ts';

/** Past this much, an oversized body is not even drained: the connection is cut. */
const DRAIN_LIMIT_BYTES = 64 * 1024 * 1024;

export interface GatewayOptions {
  /** Runs the integration with the proxy event, given also as its JSON text (eventText). */
  invoke: (event: APIGatewayProxyEvent, text: string) => Promise<APIGatewayProxyResult>;
  stage?: string;
  timeoutMs?: number;
  onRequest?: (line: { method: string; path: string; status: number; ms: number }) => void;
}

const isBinary = (contentType: string | undefined) => {
  const type = mediaTypeOf(contentType);
  return BINARY_MEDIA_TYPES.some((t) =>
    t.endsWith('/*') ? type.startsWith(t.slice(0, -1)) : type === t,
  );
};

/** Reads the body, or reports that it passed the API limit (after draining, so that clients
 * still uploading receive the 413 instead of a reset connection). */
const readBody = (req: http.IncomingMessage): Promise<Buffer | 'too-large'> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= API_GATEWAY_PAYLOAD_BYTES) chunks.push(chunk);
      else if (size > DRAIN_LIMIT_BYTES) req.destroy();
    });
    req.on('end', () =>
      resolve(size > API_GATEWAY_PAYLOAD_BYTES ? 'too-large' : Buffer.concat(chunks)),
    );
    req.on('close', () => size > API_GATEWAY_PAYLOAD_BYTES && resolve('too-large'));
    req.on('error', reject);
  });

const headersOf = (req: http.IncomingMessage) => {
  const headers: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i] ?? '';
    const value = req.rawHeaders[i + 1] ?? '';
    headers[name] = value;
    multi[name] = [...(multi[name] ?? []), value];
  }
  return { headers, multi };
};

const queryOf = (url: URL) => {
  if (![...url.searchParams.keys()].length) return { single: null, multi: null };
  const single: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  for (const [key, value] of url.searchParams) {
    single[key] = value;
    multi[key] = [...(multi[key] ?? []), value];
  }
  return { single, multi };
};

const toProxyEvent = (
  req: http.IncomingMessage,
  body: Buffer,
  stage: string,
): APIGatewayProxyEvent => {
  const url = new URL(req.url ?? '/', 'http://local');
  const method = req.method ?? 'GET';
  const matched = matchRoute(url.pathname);
  const resource = matched?.route.path ?? '/{proxy+}';
  const pathParameters = matched
    ? Object.keys(matched.params).length
      ? matched.params
      : null
    : { proxy: url.pathname.slice(1) };
  const { headers, multi } = headersOf(req);
  const query = queryOf(url);
  const binary = isBinary(req.headers['content-type']);
  const now = new Date();
  const requestId = randomUUID();
  return {
    resource,
    path: url.pathname,
    httpMethod: method,
    headers,
    multiValueHeaders: multi,
    queryStringParameters: query.single,
    multiValueQueryStringParameters: query.multi,
    pathParameters,
    stageVariables: null,
    body: body.length ? body.toString(binary ? 'base64' : 'utf8') : null,
    isBase64Encoded: binary && body.length > 0,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      authorizer: null,
      domainName: req.headers.host ?? 'localhost',
      domainPrefix: 'local',
      extendedRequestId: requestId,
      httpMethod: method,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        user: null,
        userAgent: req.headers['user-agent'] ?? null,
        userArn: null,
      },
      // What the client called: locally there is no stage in the URL.
      path: url.pathname,
      protocol: `HTTP/${req.httpVersion}`,
      requestId,
      requestTime: now.toUTCString(),
      requestTimeEpoch: now.getTime(),
      resourceId: 'local',
      resourcePath: resource,
      stage,
    },
  };
};

/**
 * The proxy event as JSON, which is how Lambda receives it. A base64 body — this gateway's own
 * encoding of the request's bytes, up to 10 MB — is made of [A-Za-z0-9+/=] only, which JSON
 * writes as it is: it is put in place as it is, rather than scanned character by character by
 * JSON.stringify (about 3 ms for a 630 kB image, on the thread that runs every local service).
 */
const eventText = (event: APIGatewayProxyEvent): string => {
  if (!event.isBase64Encoded || event.body === null) return JSON.stringify(event);
  const { body, ...rest } = event;
  // `{…,"body":""}`: the body last, its two quotes and the closing brace cut off.
  const head = JSON.stringify({ ...rest, body: '' }).slice(0, -3);
  return `${head}"${body}"}`;
};

export const createGateway = ({
  invoke,
  stage = 'local',
  timeoutMs = API_GATEWAY_TIMEOUT_MS,
  onRequest,
}: GatewayOptions) =>
  http.createServer(async (req, res) => {
    const started = performance.now();
    const finish = (
      status: number,
      headers: Record<string, string | string[]>,
      body: Buffer | string,
    ) => {
      res.writeHead(status, { ...headers, 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
      onRequest?.({
        method: req.method ?? '',
        path: req.url ?? '',
        status,
        ms: performance.now() - started,
      });
    };
    const refuse = (type: GatewayResponseType) =>
      finish(
        GATEWAY_RESPONSES[type].status,
        { 'Content-Type': 'application/json', 'x-amzn-ErrorType': type },
        gatewayErrorBody(type),
      );

    try {
      const body = await readBody(req);
      if (body === 'too-large') return refuse('REQUEST_TOO_LARGE');
      const event = toProxyEvent(req, body, stage);
      const result = await withDeadline(timeoutMs, () => invoke(event, eventText(event)));
      if (typeof result?.statusCode !== 'number') {
        return refuse('INTEGRATION_FAILURE');
      }
      const headers: Record<string, string | string[]> = {
        ...result.multiValueHeaders,
        ...result.headers,
      } as never;
      const payload = Buffer.from(result.body ?? '', result.isBase64Encoded ? 'base64' : 'utf8');
      finish(result.statusCode, headers, payload);
    } catch (error) {
      if (error instanceof DeadlineExceededError) return refuse('INTEGRATION_TIMEOUT');
      // Lambda takes at most 6 MB of event, and a base64 body counts a third more than its bytes.
      if ((error as Error).name === 'Lambda.RequestEntityTooLargeException')
        return refuse('REQUEST_TOO_LARGE');
      // A Lambda that throws gets API Gateway's 502, whatever it threw.
      console.error('local gateway: the ingest handler failed', error);
      if (!res.headersSent) refuse('INTEGRATION_FAILURE');
    }
  });
