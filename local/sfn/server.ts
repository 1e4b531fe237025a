/** The local Step Functions endpoint: AWS JSON 1.0 on POST, the local view on GET. */
import http from 'node:http';
import type { LocalStepFunctions } from './engine.ts';
import { SfnApiError } from './errors.ts';
import { maxRequestBytes, OPERATIONS, toAwsJson } from './protocol.ts';
import { renderExecution, renderList } from './viewer.ts';

const TARGET_PREFIX = 'AWSStepFunctions.';

const send = (res: http.ServerResponse, status: number, type: string, body: string, extra = {}) => {
  res.writeHead(status, {
    'content-type': type,
    'content-length': Buffer.byteLength(body),
    ...extra,
  });
  res.end(body);
};

const sendError = (res: http.ServerResponse, error: SfnApiError, status = 400) =>
  send(
    res,
    status,
    'application/x-amz-json-1.0',
    JSON.stringify({ __type: error.type, message: error.message }),
    {
      'x-amzn-errortype': error.type,
    },
  );

const readBody = (req: http.IncomingMessage, limit: number): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new SfnApiError('ValidationException', 'Request body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });

export const createSfnServer = (sfn: LocalStepFunctions) =>
  http.createServer(async (req, res) => {
    try {
      if (req.method === 'GET') return view(sfn, req, res);
      if (req.method !== 'POST') return send(res, 405, 'text/plain', 'Method Not Allowed');
      const target = String(req.headers['x-amz-target'] ?? '');
      const operation = target.startsWith(TARGET_PREFIX)
        ? OPERATIONS[target.slice(TARGET_PREFIX.length)]
        : undefined;
      if (!operation) {
        throw new SfnApiError(
          'UnknownOperationException',
          `Operation not supported locally: ${target || '(none)'}`,
        );
      }
      const raw = await readBody(req, maxRequestBytes(sfn));
      let body: Record<string, unknown>;
      try {
        body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
      } catch {
        throw new SfnApiError('SerializationException', 'Request body is not valid JSON');
      }
      const result = await operation(sfn, body);
      send(res, 200, 'application/x-amz-json-1.0', toAwsJson(result));
    } catch (error) {
      if (error instanceof SfnApiError) return sendError(res, error);
      console.error('local Step Functions: unexpected error', error);
      sendError(
        res,
        new SfnApiError('InternalFailure', 'Internal failure in the local endpoint'),
        500,
      );
    }
  });

const view = (sfn: LocalStepFunctions, req: http.IncomingMessage, res: http.ServerResponse) => {
  const url = new URL(req.url ?? '/', 'http://local');
  if (url.pathname === '/') return send(res, 200, 'text/html; charset=utf-8', renderList(sfn));
  const execution =
    url.pathname === '/execution'
      ? sfn.executions.get(url.searchParams.get('arn') ?? '')
      : undefined;
  if (execution) return send(res, 200, 'text/html; charset=utf-8', renderExecution(execution));
  send(res, 404, 'text/plain', 'Not found');
};
