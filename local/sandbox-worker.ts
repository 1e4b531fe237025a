/**
 * One Lambda sandbox (an execution environment): a worker thread that loads the function's
 * module and builds its handler once (the cold start), then runs one invocation at a time for
 * as long as the pool keeps it. Everything crosses as JSON text, structured-cloned: the event
 * in, the result out, as through Lambda's Invoke API. Its logs are what it writes to stdout and
 * stderr, which the pool splits into lines (CloudWatch Logs' stream of this sandbox).
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { S3Client } from '@aws-sdk/client-s3';
import type { ClientContext, Context } from 'aws-lambda';
import { type ClientOptions, createS3Client, createSfnClient } from '../lambdas/shared/clients.ts';
import type { IngestConfig } from '../lambdas/shared/config.ts';
import { createLogger } from '../lambdas/shared/logger.ts';
import { createMetrics } from '../lambdas/shared/metrics.ts';
import { countRequests } from './meter.ts';
import { forwardWrites } from './sandbox-log.ts';

/** What a sandbox is built from: its function and the configuration its factory takes. */
export type SandboxSpec =
  | { function: 'image-analyze'; s3: ClientOptions }
  | { function: 'image-ingest'; config: IngestConfig; s3: ClientOptions; sfn: ClientOptions };

/** The Lambda context's fields, as plain data (its functions are rebuilt here). */
export interface InvocationContext {
  functionName: string;
  functionVersion: string;
  invokedFunctionArn: string;
  memoryLimitInMB: string;
  awsRequestId: string;
  logGroupName: string;
  logStreamName: string;
  /** Epoch milliseconds at which the invocation times out. */
  deadline: number;
  clientContext?: ClientContext;
}

export type SandboxRequest = { id: number; event: string; context: InvocationContext };
export type SandboxReply =
  | { type: 'ready' }
  /** Text the sandbox wrote, in the order it wrote it (not cut at line ends). */
  | { type: 'log'; stream: 'stdout' | 'stderr'; text: string }
  | { type: 'init-failed'; error: { name: string; message: string } }
  | {
      type: 'result';
      id: number;
      result?: string;
      error?: { name: string; message: string };
      /** S3 commands sent during the invocation, for the local meter. */
      s3Commands: string[];
    };

type Handler = (event: unknown, context: Context) => Promise<unknown>;

const port = parentPort;
if (!port) throw new Error('sandbox-worker.ts runs as a worker thread');

/**
 * What the function writes goes to the pool over the port its answers take, so that all of an
 * invocation's lines arrive before its answer, as Lambda flushes them before it reports, with
 * no round trip through the pool's thread to learn that they did (a worker's own stdout is
 * another channel, acknowledged chunk by chunk).
 */
const writers = (['stdout', 'stderr'] as const).map((stream) =>
  forwardWrites(process[stream], (text) =>
    port.postMessage({ type: 'log', stream, text } satisfies SandboxReply),
  ),
);

const s3Commands: string[] = [];
/** Every S3 request the handler's client sends, by command, for the cost model. */
const metered = (client: S3Client) => countRequests(client, (command) => s3Commands.push(command));

/** The cold start: the module's import and its factory, as Lambda's init phase runs them. */
const build = async (spec: SandboxSpec): Promise<Handler> => {
  if (spec.function === 'image-analyze') {
    const { createHandler } = await import('../lambdas/analyze/handler.ts');
    return createHandler({
      s3: metered(createS3Client(spec.s3)),
      logger: createLogger(spec.function),
      metrics: createMetrics(spec.function),
    }) as unknown as Handler;
  }
  const { createHandler } = await import('../lambdas/ingest/handler.ts');
  return createHandler({
    config: spec.config,
    sfn: createSfnClient(spec.sfn),
    s3: metered(createS3Client(spec.s3)),
    logger: createLogger(spec.function),
    metrics: createMetrics(spec.function),
  }) as unknown as Handler;
};

const contextOf = (c: InvocationContext): Context => ({
  ...c,
  callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => Math.max(0, c.deadline - Date.now()),
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
});

const errorOf = (error: unknown) => {
  const e = error instanceof Error ? error : new Error(String(error));
  return { name: e.name, message: e.message };
};

let handler: Handler;
try {
  handler = await build(workerData as SandboxSpec);
} catch (error) {
  port.postMessage({ type: 'init-failed', error: errorOf(error) } satisfies SandboxReply);
  throw error;
}

port.on('message', async ({ id, event, context }: SandboxRequest) => {
  s3Commands.length = 0;
  let reply: SandboxReply;
  try {
    const result = await handler(JSON.parse(event), contextOf(context));
    reply = { type: 'result', id, result: JSON.stringify(result ?? null), s3Commands };
  } catch (error) {
    reply = { type: 'result', id, error: errorOf(error), s3Commands };
  }
  // After the invocation's log text (the end of a character split across writes included), on
  // the same port.
  for (const writer of writers) writer.flush();
  port.postMessage(reply);
});
port.postMessage({ type: 'ready' } satisfies SandboxReply);
