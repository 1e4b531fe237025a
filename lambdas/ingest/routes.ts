/**
 * The API's routes: the single list the ingest dispatches on, the CDK stack builds its API
 * Gateway resources from and the local gateway matches requests against.
 */
import type { View } from '../shared/workflow.ts';
import { MethodNotAllowedError, NotFoundError } from './errors.ts';

export const ROUTES = [
  { path: '/shape', methods: ['POST'] },
  { path: '/nbytes', methods: ['POST'] },
  { path: '/analyze', methods: ['POST'] },
  { path: '/executions/{id}', methods: ['GET'] },
  { path: '/batches', methods: ['POST'] },
  { path: '/batches/{id}', methods: ['GET', 'DELETE'] },
  { path: '/batches/{id}/uploads', methods: ['GET'] },
  { path: '/batches/{id}/start', methods: ['POST'] },
  { path: '/batches/{id}/results', methods: ['GET'] },
] as const;

/** The large-batch API (batches.ts): direct uploads to S3, then a Distributed Map. */
export type LargeBatchAction = 'create' | 'describe' | 'cancel' | 'uploads' | 'start' | 'results';

export type Route =
  | { kind: 'batch'; view: View }
  | { kind: 'execution'; id: string }
  | { kind: 'large-batch'; action: LargeBatchAction; id: string };

/** Matches a concrete path to a route template: `/executions/abc` → `/executions/{id}`. */
export const matchRoute = (path: string) => {
  for (const route of ROUTES) {
    const names: string[] = [];
    const pattern = route.path.replace(/\{(\w+)\}/g, (_, name: string) => {
      names.push(name);
      return '([^/]+)';
    });
    const match = new RegExp(`^${pattern}/?$`).exec(path);
    if (match) {
      const params = Object.fromEntries(
        names.map((n, i) => [n, decodeURIComponent(match[i + 1] ?? '')]),
      );
      return { route, params };
    }
  }
  return undefined;
};

export const resolveRoute = (method: string, path: string): Route => {
  const matched = matchRoute(path);
  if (!matched) {
    throw new NotFoundError(
      `No route for ${path}; try POST /shape, /nbytes or /analyze, GET /executions/{id}, or POST /batches.`,
    );
  }
  const { route, params } = matched;
  if (!(route.methods as readonly string[]).includes(method))
    throw new MethodNotAllowedError(method, route.methods);
  if (route.path === '/executions/{id}') return { kind: 'execution', id: params.id ?? '' };
  if (route.path.startsWith('/batches')) {
    const action =
      route.path === '/batches'
        ? 'create'
        : (route.path.split('/')[3] ?? (method === 'DELETE' ? 'cancel' : 'describe'));
    return { kind: 'large-batch', action: action as LargeBatchAction, id: params.id ?? '' };
  }
  return { kind: 'batch', view: route.path.slice(1) as View };
};

/** Bodies API Gateway hands to the Lambda base64-encoded, untouched. */
export const BINARY_MEDIA_TYPES = [
  'multipart/form-data',
  'image/*',
  'application/octet-stream',
] as const;

/** API Gateway's own refusals, answered in the ingest's JSON error shape (Gateway Responses
 * in the stack, the same bodies from the local gateway). */
export const GATEWAY_RESPONSES = {
  REQUEST_TOO_LARGE: {
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
    message:
      'The request is too large: API Gateway takes 10 MB, and the Lambda behind it 6 MB of event, in which the body travels base64-encoded (about 4.4 MB of upload).',
  },
  INTEGRATION_TIMEOUT: {
    status: 504,
    code: 'GATEWAY_TIMEOUT',
    message: 'The request did not finish within the 29 s API limit.',
  },
  INTEGRATION_FAILURE: {
    status: 502,
    code: 'BAD_GATEWAY',
    message: 'The service could not answer.',
  },
  THROTTLED: { status: 429, code: 'THROTTLED', message: 'Too many requests; retry later.' },
  QUOTA_EXCEEDED: { status: 429, code: 'QUOTA_EXCEEDED', message: 'The API key quota is used up.' },
  UNAUTHORIZED: { status: 401, code: 'UNAUTHORIZED', message: 'Missing or invalid credentials.' },
  ACCESS_DENIED: { status: 403, code: 'FORBIDDEN', message: 'Access denied.' },
  INVALID_API_KEY: { status: 403, code: 'INVALID_API_KEY', message: 'Missing or invalid API key.' },
  MISSING_AUTHENTICATION_TOKEN: {
    status: 403,
    code: 'FORBIDDEN',
    message: 'This API needs signed (IAM) requests.',
  },
} as const;

export type GatewayResponseType = keyof typeof GATEWAY_RESPONSES;

export const gatewayErrorBody = (type: GatewayResponseType) => {
  const { code, message } = GATEWAY_RESPONSES[type];
  return JSON.stringify({ error: { code, message } });
};
