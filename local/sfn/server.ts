/** The local Step Functions endpoint: AWS JSON 1.0 on POST, the console on GET. */
import http from 'node:http';
import { esc, page } from '../console/html.ts';
import {
  eventsFragment,
  mapPage,
  mapRunPage,
  runPage,
  runsPage,
  statePanel,
} from '../console/pages.ts';
import type { LocalStepFunctions } from './engine.ts';
import { SfnApiError } from './errors.ts';
import type { Execution } from './execution.ts';
import { maxRequestBytes, OPERATIONS, toAwsJson } from './protocol.ts';

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
      if (req.method === 'GET' || req.method === 'HEAD') return await view(sfn, req, res);
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

const HTML = 'text/html; charset=utf-8';

/** Any run the engine keeps: its own executions, and those DescribeExecution finds (a Map
 * Run's child executions, Express ones included). */
const find = (sfn: LocalStepFunctions, arn: string): Execution | undefined => {
  const own = sfn.executions.get(arn);
  if (own) return own;
  try {
    return sfn.describable(arn);
  } catch {
    return undefined;
  }
};

const notFound = (res: http.ServerResponse, what: string) =>
  send(res, 404, HTML, page('Not found', `<h1>Not found</h1><p>${esc(what)}</p>`));

/** The console: every page reads the engine as it is now; fragments load into a page. */
const view = async (
  sfn: LocalStepFunctions,
  req: http.IncomingMessage,
  res: http.ServerResponse,
) => {
  const url = new URL(req.url ?? '/', 'http://local');
  const query = url.searchParams;
  if (url.pathname === '/') return send(res, 200, HTML, runsPage(sfn, query));
  if (url.pathname === '/map-run') {
    return send(res, 200, HTML, await mapRunPage(sfn, query.get('arn') ?? '', query));
  }
  const pages: Record<string, (e: Execution) => string | Promise<string>> = {
    '/execution': (e) => runPage(sfn, e),
    '/map': (e) => mapPage(e, query.get('state') ?? '', query),
    '/fragment/state': (e) => statePanel(e, query.get('state') ?? '', query),
    '/fragment/events': (e) => eventsFragment(e, query),
  };
  if (url.pathname === '/raw') {
    const execution = find(sfn, query.get('arn') ?? '');
    const part = query.get('part') === 'output' ? execution?.output : execution?.input;
    if (part === undefined) return notFound(res, 'No such execution input or output');
    return send(res, 200, 'application/json; charset=utf-8', part);
  }
  const render = pages[url.pathname];
  if (!render) return notFound(res, `No page at ${url.pathname}`);
  const execution = find(sfn, query.get('arn') ?? '');
  if (!execution)
    return notFound(
      res,
      `No execution ${query.get('arn') ?? ''} (it may have been dropped: the engine keeps the latest runs)`,
    );
  send(res, 200, HTML, await render(execution));
};
