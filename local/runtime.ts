/**
 * The whole service on one machine: the local Step Functions endpoint running the ASL file,
 * the two Lambdas in their sandboxes (worker threads, sandbox.ts), the local S3, and the local
 * API Gateway in front. The handlers are the deployed modules' factories, given their
 * configuration and clients' endpoints here (in AWS they build them from the environment):
 * nothing is read from or written to process.env, so several runtimes can share a process.
 */

import { mkdtemp, rm } from 'node:fs/promises';
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { FUNCTION_SETTINGS, largeBatchConcurrencyFor } from '../infra/settings.ts';
import { type ClientOptions, createS3Client } from '../lambdas/shared/clients.ts';
import { DEFAULT_LIMITS, type IngestConfig } from '../lambdas/shared/config.ts';
import type { ExecutionInput } from '../lambdas/shared/workflow.ts';
import { LARGE_BATCH_DEFINITION_FILE, loadDefinition } from '../statemachine/definition.ts';
import { invoke, JsonPayload, type LocalFunction, taskInvoker } from './functions.ts';
import { createGateway } from './gateway.ts';
import { countRequests, Meter, type Usage } from './meter.ts';
import { LOCAL_S3_CREDENTIALS, startLocalS3 } from './s3.ts';
import { SandboxPool } from './sandbox.ts';
import { LocalStepFunctions } from './sfn/engine.ts';
import { createSfnServer } from './sfn/server.ts';
import { ExecutionStore } from './store.ts';

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
  /** Prints one line per API request. */
  logRequests?: boolean;
  /** Overrides of the ingest's configuration (limits, deadline). */
  ingest?: Partial<Omit<IngestConfig, 'stagingBucket'>>;
  /** Where the analysis Lambda finds S3 — a stopped server, to test a store that fails. */
  analysisS3Endpoint?: string;
  /** Every line the functions log (their sandboxes' stdout and stderr), with the function's
   * name; by default printed to stdout, as CloudWatch Logs would receive them. */
  onLog?: (line: string, functionName: string) => void;
  /** How many ingest sandboxes may run at once. In AWS, the account's unreserved concurrency
   * (1,000 by default); here fewer, so that a burst waits instead of starting a thousand
   * threads. The analysis function has its reserved concurrency, as in AWS. */
  ingestConcurrency?: number;
  /** The functions' POWERTOOLS_LOG_LEVEL (by default the one this process has, if any). */
  logLevel?: string;
  /** Where executions and the local S3's objects survive restarts (`npm start`: `.local/`).
   * Without it, a temporary directory removed on close. */
  stateDir?: string;
}

export interface Runtime {
  apiUrl: string;
  sfnUrl: string;
  s3Url: string;
  stagingBucket: string;
  /** Where this runtime keeps its executions (`executions/`) and S3 objects (`s3/`). */
  stateDir: string;
  sfn: LocalStepFunctions;
  stateMachineArns: { sync: string; async: string; largeBatch: string };
  /** How an AWS SDK client reaches this runtime's Step Functions and S3 endpoints. */
  clientOptions: { sfn: ClientOptions; s3: ClientOptions };
  /** What AWS would bill for everything since the last reset (see meter.ts). */
  usage: () => Usage;
  resetUsage: () => void;
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

export const startRuntime = async (options: RuntimeOptions = {}): Promise<Runtime> => {
  const host = options.host ?? '127.0.0.1';
  const meter = new Meter();
  let usageSince = new Date(0);

  const stateDir =
    options.stateDir ?? (await mkdtemp(path.join(os.tmpdir(), 'image-batch-state-')));
  const removeState = () =>
    options.stateDir ? Promise.resolve() : rm(stateDir, { recursive: true, force: true });
  let s3Server: Awaited<ReturnType<typeof startLocalS3>>;
  try {
    s3Server = await startLocalS3({
      host,
      port: options.s3Port ?? 4568,
      bucket: STAGING_BUCKET,
      directory: path.join(stateDir, 's3'),
    });
  } catch (error) {
    await removeState();
    throw error;
  }
  const local = { region: REGION, credentials: LOCAL_S3_CREDENTIALS };
  const s3Options: ClientOptions = { ...local, endpoint: s3Server.url };

  const { analyze: analyzeSettings, ingest: ingestSettings } = FUNCTION_SETTINGS;
  const pools: SandboxPool[] = [];
  const sandboxes = (
    spec: ConstructorParameters<typeof SandboxPool>[0]['spec'],
    settings: { memoryMb: number },
    concurrency: number,
  ) => {
    const pool = new SandboxPool({
      spec,
      concurrency,
      memoryMb: settings.memoryMb,
      region: REGION,
      environment: options.logLevel ? { POWERTOOLS_LOG_LEVEL: options.logLevel } : undefined,
      onLog: options.onLog && ((line) => options.onLog?.(line, spec.function)),
      onS3Command: (command) => meter.s3Request(command),
    });
    pools.push(pool);
    return pool;
  };
  const analyzeFn: LocalFunction = {
    ...analyzeSettings,
    arn: functionArn(analyzeSettings.name),
    sandboxes: sandboxes(
      {
        function: analyzeSettings.name,
        s3: { ...s3Options, endpoint: options.analysisS3Endpoint ?? s3Server.url },
      },
      analyzeSettings,
      analyzeSettings.reservedConcurrency,
    ),
    onInvoked: (ms) => meter.invocation(analyzeSettings.name, analyzeSettings.memoryMb, ms),
  };
  // The workflows' own S3 calls (deleting a batch's staged object, a Distributed Map's
  // ItemReader and ResultWriter), as their role makes them.
  const workflowS3 = countRequests(createS3Client(s3Options), (command) =>
    meter.s3Request(command),
  );
  const sfn = new LocalStepFunctions({
    region: REGION,
    accountId: ACCOUNT_ID,
    invokeTask: taskInvoker([analyzeFn], { s3: workflowS3 }),
    s3: workflowS3,
    store: new ExecutionStore(path.join(stateDir, 'executions')),
  });
  /** A run that will not finish leaves its staged images behind; this removes them, as the
   * workflow's last state would have. */
  const removeStaged = async (input: string) => {
    const staged = (JSON.parse(input) as Partial<ExecutionInput>).staged;
    if (!staged?.bucket || !staged.key) return;
    await workflowS3.send(new DeleteObjectCommand({ Bucket: staged.bucket, Key: staged.key }));
  };
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

  const sfnServer = createSfnServer(sfn);
  let sfnUrl: string;
  try {
    // Runs a crash cut short end FAILED, their staged objects removed, before anyone asks.
    await sfn.restore(removeStaged);
    sfnUrl = await listen(sfnServer, options.sfnPort ?? 8083, host);
  } catch (error) {
    await s3Server.close();
    await removeState();
    throw error;
  }
  const sfnOptions: ClientOptions = { ...local, endpoint: sfnUrl };

  // What the CDK stack sets on the function, given directly.
  const config: IngestConfig = {
    ...DEFAULT_LIMITS,
    syncStateMachineArn: sync.arn,
    asyncStateMachineArn: async.arn,
    largeBatchStateMachineArn: largeBatch.arn,
    largeBatchMaxConcurrency: largeBatchConcurrencyFor(analyzeSettings.reservedConcurrency),
    stagingBucket: STAGING_BUCKET,
    ...options.ingest,
  };
  const ingestFn: LocalFunction = {
    ...ingestSettings,
    arn: functionArn(ingestSettings.name),
    sandboxes: sandboxes(
      { function: ingestSettings.name, config, sfn: sfnOptions, s3: s3Options },
      ingestSettings,
      options.ingestConcurrency ?? 10,
    ),
    onInvoked: (ms) => meter.invocation(ingestSettings.name, ingestSettings.memoryMb, ms),
  };

  const gateway = createGateway({
    invoke: (_event, text) =>
      invoke(ingestFn, new JsonPayload(text)) as Promise<APIGatewayProxyResult>,
    onRequest: (line) => {
      meter.usage.apiRequests += 1;
      if (options.logRequests)
        console.log(`${line.method} ${line.path} → ${line.status} (${line.ms.toFixed(0)} ms)`);
    },
  });
  let apiUrl: string;
  try {
    apiUrl = await listen(gateway, options.port ?? 3000, host);
  } catch (error) {
    await Promise.all([close(sfnServer), s3Server.close()]);
    await removeState();
    throw error;
  }

  /** The workflows' share, read from the executions themselves: Express is billed per request
   * and duration, Standard per state transition, and both log every event with its data. */
  const usage = (): Usage => {
    const total = structuredClone(meter.usage);
    for (const execution of sfn.all()) {
      if (execution.startDate < usageSince) continue;
      const events = execution.history.events;
      total.workflowLogBytes += events.reduce((sum, e) => sum + JSON.stringify(e).length + 1, 0);
      if (execution.type === 'EXPRESS') {
        total.expressRequests += 1;
        const ms = (execution.stopDate ?? new Date()).getTime() - execution.startDate.getTime();
        total.expressBilledMs += Math.ceil(Math.max(ms, 1) / 100) * 100;
      } else {
        total.standardTransitions += events.filter((e) => e.type.endsWith('StateEntered')).length;
      }
    }
    return total;
  };

  return {
    apiUrl,
    sfnUrl,
    s3Url: s3Server.url,
    stagingBucket: STAGING_BUCKET,
    stateDir,
    sfn,
    stateMachineArns: { sync: sync.arn, async: async.arn, largeBatch: largeBatch.arn },
    clientOptions: { sfn: sfnOptions, s3: s3Options },
    usage,
    resetUsage: () => {
      meter.reset();
      usageSince = new Date();
    },
    close: async () => {
      await Promise.all([close(gateway), close(sfnServer)]);
      // Runs still going cannot outlive the runtime: they end ABORTED, saying why, and what
      // they staged goes, as after a crash.
      await Promise.all(
        sfn.all().map(async (e) => {
          if (e.status !== 'RUNNING') return;
          e.stop(
            'States.Runtime',
            'The local runtime was stopped while this execution was running.',
          );
          await e.settled;
          await removeStaged(e.input).catch(() => undefined);
        }),
      );
      await sfn.flush();
      await Promise.all(pools.map((pool) => pool.close()));
      await s3Server.close();
      await removeState();
    },
  };
};
