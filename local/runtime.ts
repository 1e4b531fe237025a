/**
 * The whole service on one machine: the local Step Functions endpoint running the ASL file,
 * the two Lambdas in-process, and the local API Gateway in front. The handlers are the
 * deployed modules, configured through the same environment variables as in AWS; only the
 * endpoints point here. Handlers read their configuration once, so one runtime per process.
 */

import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { FUNCTION_SETTINGS } from '../infra/settings.ts';
import { LARGE_BATCH_DEFINITION_FILE, loadDefinition } from '../statemachine/definition.ts';
import { type Handler, invoke, type LocalFunction, taskInvoker } from './functions.ts';
import { createGateway } from './gateway.ts';
import { LOCAL_S3_CREDENTIALS, startLocalS3 } from './s3.ts';
import { LocalStepFunctions } from './sfn/engine.ts';
import { createSfnServer } from './sfn/server.ts';

export const REGION = 'us-east-1';
export const ACCOUNT_ID = '000000000000';
export const MACHINE_NAMES = {
  sync: 'ImageBatchSync',
  async: 'ImageBatchAsync',
  largeBatch: 'ImageBatchLarge',
} as const;
export const STAGING_BUCKET = 'image-batch-staging';

export interface RuntimeOptions {
  host?: string;
  /** API port; 0 picks a free one. */
  port?: number;
  /** Step Functions endpoint port; 0 picks a free one. */
  sfnPort?: number;
  /** S3 endpoint port; 0 picks a free one. */
  s3Port?: number;
  /** Lifts the 256 KiB state payload limit: for the claim-check benchmark only. */
  liftPayloadLimit?: boolean;
  /** Prints one line per API request. */
  logRequests?: boolean;
}

export interface Runtime {
  apiUrl: string;
  sfnUrl: string;
  s3Url: string;
  stagingBucket: string;
  sfn: LocalStepFunctions;
  stateMachineArns: { sync: string; async: string; largeBatch: string };
  close: () => Promise<void>;
}

const functionArn = (name: string) => `arn:aws:lambda:${REGION}:${ACCOUNT_ID}:function:${name}`;

const listen = (server: http.Server, port: number, host: string) =>
  new Promise<string>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address() as AddressInfo;
      resolve(`http://${host}:${address.port}`);
    });
  });

const close = (server: http.Server) =>
  new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });

let started = false;

export const startRuntime = async (options: RuntimeOptions = {}): Promise<Runtime> => {
  if (started) throw new Error('One local runtime per process: its handlers read env once.');
  started = true;
  const host = options.host ?? '127.0.0.1';

  const { analyze: analyzeSettings, ingest: ingestSettings } = FUNCTION_SETTINGS;
  const analyzeFn: LocalFunction = {
    ...analyzeSettings,
    arn: functionArn(analyzeSettings.name),
    // Set once the environment is ready (below).
    handler: async () => null,
  };
  const sfn = new LocalStepFunctions({
    region: REGION,
    accountId: ACCOUNT_ID,
    invokeTask: taskInvoker([analyzeFn]),
    ...(options.liftPayloadLimit && { payloadLimitBytes: 64 * 1024 * 1024 }),
  });
  const definition = loadDefinition({ AnalyzeFunctionArn: analyzeFn.arn });
  const sync = sfn.createStateMachine({ name: MACHINE_NAMES.sync, type: 'EXPRESS', definition });
  const async = sfn.createStateMachine({
    name: MACHINE_NAMES.async,
    type: 'STANDARD',
    definition,
  });
  const largeBatch = sfn.createStateMachine({
    name: MACHINE_NAMES.largeBatch,
    type: 'STANDARD',
    definition: loadDefinition({ AnalyzeFunctionArn: analyzeFn.arn }, LARGE_BATCH_DEFINITION_FILE),
  });

  const s3 = await startLocalS3({ host, port: options.s3Port ?? 4568, bucket: STAGING_BUCKET });
  const sfnServer = createSfnServer(sfn);
  let sfnUrl: string;
  try {
    sfnUrl = await listen(sfnServer, options.sfnPort ?? 8083, host);
  } catch (error) {
    await s3.close();
    throw error;
  }

  // What the CDK stack sets on the functions, plus the endpoint and dummy credentials that
  // keep the SDK away from real AWS.
  Object.assign(process.env, {
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: LOCAL_S3_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_S3_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_SFN: sfnUrl,
    AWS_ENDPOINT_URL_S3: s3.url,
    SYNC_STATE_MACHINE_ARN: sync.arn,
    ASYNC_STATE_MACHINE_ARN: async.arn,
    STAGING_BUCKET,
    ...(options.liftPayloadLimit && { INLINE_BUDGET_BYTES: String(64 * 1024 * 1024) }),
  });
  delete process.env.AWS_PROFILE;
  delete process.env.AWS_SESSION_TOKEN;

  // Imported only now: their module scope reads the environment, as at a Lambda cold start.
  const [{ handler: analyze }, { handler: ingest }] = await Promise.all([
    import('../lambdas/analyze/handler.ts'),
    import('../lambdas/ingest/handler.ts'),
  ]);
  analyzeFn.handler = analyze as unknown as Handler;
  const ingestFn: LocalFunction = {
    ...ingestSettings,
    arn: functionArn(ingestSettings.name),
    handler: ingest as unknown as Handler,
  };

  const gateway = createGateway({
    invoke: (event: APIGatewayProxyEvent) =>
      invoke(ingestFn, event) as Promise<APIGatewayProxyResult>,
    onRequest: options.logRequests
      ? ({ method, path, status, ms }) =>
          console.log(`${method} ${path} → ${status} (${ms.toFixed(0)} ms)`)
      : undefined,
  });
  let apiUrl: string;
  try {
    apiUrl = await listen(gateway, options.port ?? 3000, host);
  } catch (error) {
    await Promise.all([close(sfnServer), s3.close()]);
    throw error;
  }

  return {
    apiUrl,
    sfnUrl,
    s3Url: s3.url,
    stagingBucket: STAGING_BUCKET,
    sfn,
    stateMachineArns: { sync: sync.arn, async: async.arn, largeBatch: largeBatch.arn },
    close: async () => {
      await Promise.all([close(gateway), close(sfnServer)]);
      await Promise.all(
        sfn.all().map((e) => {
          e.stop();
          return e.settled;
        }),
      );
      await s3.close();
    },
  };
};
