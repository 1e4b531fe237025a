/**
 * The local Step Functions endpoint spoken to by the AWS SDK's own client over HTTP: if the
 * SDK reads it, so do the AWS CLI and every other AWS JSON 1.0 client.
 */

import { randomUUID } from 'node:crypto';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import {
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  ListStateMachinesCommand,
  type SFNClient,
  StartExecutionCommand,
  StartSyncExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { beforeAll, describe, expect, it } from 'vitest';
import { createS3Client, createSfnClient } from '../../lambdas/shared/clients.ts';
import { fixtureImage } from '../support/fixtures.ts';
import { useLocalRuntime } from '../support/runtime.ts';
import { chunkedInput } from '../support/workflow-input.ts';

const local = useLocalRuntime();
let sfn: SFNClient;

beforeAll(() => {
  // Configured as the local runtime configures the ingest Lambda's client.
  sfn = createSfnClient(local.runtime.clientOptions.sfn);
});

/** An execution input as the ingest makes it: the images staged in the local S3 first, then
 * cut into chunks of the given sizes (one chunk of all by default, as for a small batch). */
const input = async (names: string[], chunks?: number[]) => {
  const s3 = createS3Client(local.runtime.clientOptions.s3);
  const images = names.map((name) => fixtureImage(name));
  const staged = { bucket: local.runtime.stagingBucket, key: `staging/${randomUUID()}/images` };
  await s3.send(
    new PutObjectCommand({ Bucket: staged.bucket, Key: staged.key, Body: Buffer.concat(images) }),
  );
  const sizes = images.map((image) => image.length);
  return JSON.stringify(chunkedInput({ staged, sizes, chunks, filename: (i) => names[i] ?? null }));
};

const rejection = async (promise: Promise<unknown>) => {
  try {
    await promise;
  } catch (error) {
    return error as Error & { $metadata: { httpStatusCode: number } };
  }
  throw new Error('expected the call to fail');
};

const waitFor = async (executionArn: string) => {
  for (let i = 0; i < 100; i++) {
    const d = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (d.status !== 'RUNNING') return d;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('still running');
};

describe('the local endpoint, through @aws-sdk/client-sfn', () => {
  it('sends every call, StartSyncExecution included, to the local endpoint', async () => {
    const client = createSfnClient(local.runtime.clientOptions.sfn);
    const hosts: string[] = [];
    client.middlewareStack.add(
      (next) => async (args) => {
        const { hostname, port } = args.request as { hostname: string; port?: number };
        hosts.push(`${hostname}:${port}`);
        return next(args);
      },
      { step: 'finalizeRequest' },
    );
    await client.send(new ListStateMachinesCommand({}));
    // AWS serves it from "sync-states.<region>": the prefix must not reach a local host name.
    await client.send(
      new StartSyncExecutionCommand({
        stateMachineArn: local.runtime.stateMachineArns.sync,
        input: '{"chunks":[]}',
      }),
    );
    const endpoint = new URL(local.runtime.sfnUrl);
    const expected = `${endpoint.hostname}:${endpoint.port}`;
    expect(hosts).toEqual([expected, expected]);
  });

  it('lists the EXPRESS machine and its STANDARD twin, running the same definition', async () => {
    const { stateMachines } = await sfn.send(new ListStateMachinesCommand({}));
    expect(stateMachines?.map((m) => [m.name, m.type])).toEqual([
      ['ImageBatchSync', 'EXPRESS'],
      ['ImageBatchAsync', 'STANDARD'],
      ['ImageBatchLarge', 'STANDARD'],
    ]);
    expect(stateMachines?.[0]?.creationDate).toBeInstanceOf(Date);
    const [sync, async] = await Promise.all(
      [local.runtime.stateMachineArns.sync, local.runtime.stateMachineArns.async].map((arn) =>
        sfn.send(new DescribeStateMachineCommand({ stateMachineArn: arn })),
      ),
    );
    expect(sync?.definition).toBe(async?.definition);
    expect(JSON.parse(sync?.definition ?? '').StartAt).toBe('Analyze each chunk');
  });

  it('runs the EXPRESS machine synchronously with StartSyncExecution', async () => {
    const result = await sfn.send(
      new StartSyncExecutionCommand({
        stateMachineArn: local.runtime.stateMachineArns.sync,
        input: await input(['photo_400x600.jpg', 'gif_160x120.gif', 'gray_300x200.jpg'], [2, 1]),
      }),
    );
    expect(result.status).toBe('SUCCEEDED');
    expect(result.startDate).toBeInstanceOf(Date);
    const output = JSON.parse(result.output ?? '');
    // Two chunks, their records flattened in upload order.
    expect(output.results.map((r: { shape: number[] }) => r.shape)).toEqual([
      [600, 400, 3],
      [120, 160],
      [200, 300],
    ]);
  });

  it('starts the STANDARD machine, describes it and reads its history', async () => {
    const { executionArn } = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: local.runtime.stateMachineArns.async,
        input: await input(['gray_300x200.jpg']),
        name: 'sdk-standard-run',
      }),
    );
    expect(executionArn).toMatch(/:execution:ImageBatchAsync:sdk-standard-run$/);
    const done = await waitFor(executionArn ?? '');
    expect(done.status).toBe('SUCCEEDED');
    expect(done.stopDate).toBeInstanceOf(Date);
    expect(JSON.parse(done.output ?? '').results[0].shape).toEqual([200, 300]);

    const history = await sfn.send(new GetExecutionHistoryCommand({ executionArn }));
    const types = history.events?.map((e) => e.type);
    expect(types?.[0]).toBe('ExecutionStarted');
    expect(types?.at(-1)).toBe('ExecutionSucceeded');
    expect(history.events?.[0]?.timestamp).toBeInstanceOf(Date);
    // The SDK reads the Task and Map events AWS writes (shapes: test/unit/local-sfn-history).
    expect(types).toEqual(
      expect.arrayContaining([
        'MapStateStarted',
        'TaskScheduled',
        'TaskSucceeded',
        'MapStateSucceeded',
      ]),
    );
    const scheduled = history.events?.find((e) => e.type === 'TaskScheduled');
    expect(scheduled?.taskScheduledEventDetails).toMatchObject({
      resourceType: 'lambda',
      resource: 'invoke',
      region: 'us-east-1',
      timeoutInSeconds: 60,
    });
    expect(
      history.events?.find((e) => e.type === 'MapStateStarted')?.mapStateStartedEventDetails,
    ).toEqual({
      length: 1,
    });

    const listed = await sfn.send(
      new ListExecutionsCommand({ stateMachineArn: local.runtime.stateMachineArns.async }),
    );
    expect(listed.executions?.map((e) => e.executionArn)).toContain(executionArn);
  });

  it('pages the history with maxResults and nextToken', async () => {
    const { executionArn } = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: local.runtime.stateMachineArns.async,
        input: await input(['photo_400x600.jpg', 'photo_400x600.jpg'], [1, 1]),
      }),
    );
    await waitFor(executionArn ?? '');
    const all = await sfn.send(new GetExecutionHistoryCommand({ executionArn }));
    const first = await sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 3 }));
    const rest = await sfn.send(
      new GetExecutionHistoryCommand({ executionArn, nextToken: first.nextToken }),
    );
    expect(first.events).toHaveLength(3);
    expect([...(first.events ?? []), ...(rest.events ?? [])]).toEqual(all.events);
  });

  it('stops a STANDARD execution', async () => {
    const { executionArn } = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: local.runtime.stateMachineArns.async,
        input: await input(Array.from({ length: 30 }, () => 'gray_300x200.jpg')),
      }),
    );
    await sfn.send(new StopExecutionCommand({ executionArn, error: 'UserCancelled' }));
    const done = await waitFor(executionArn ?? '');
    expect(done.status).toBe('ABORTED');
  });
});

describe('the local endpoint refuses what AWS refuses, with AWS error types', () => {
  it('does not describe an Express execution', async () => {
    const { executionArn } = await sfn.send(
      new StartSyncExecutionCommand({
        stateMachineArn: local.runtime.stateMachineArns.sync,
        input: await input(['gray_300x200.jpg']),
      }),
    );
    const error = await rejection(sfn.send(new DescribeExecutionCommand({ executionArn })));
    expect(error.name).toBe('InvalidArn');
    expect(error.$metadata.httpStatusCode).toBe(400);
  });

  it('does not run a STANDARD machine with StartSyncExecution, nor list Express executions', async () => {
    const sync = await rejection(
      sfn.send(
        new StartSyncExecutionCommand({
          stateMachineArn: local.runtime.stateMachineArns.async,
          input: '{}',
        }),
      ),
    );
    expect(sync.name).toBe('StateMachineTypeNotSupported');
    const list = await rejection(
      sfn.send(new ListExecutionsCommand({ stateMachineArn: local.runtime.stateMachineArns.sync })),
    );
    expect(list.name).toBe('StateMachineTypeNotSupported');
  });

  it('refuses an input over 256 KiB', async () => {
    const error = await rejection(
      sfn.send(
        new StartExecutionCommand({
          stateMachineArn: local.runtime.stateMachineArns.async,
          input: JSON.stringify({ chunks: [], pad: 'x'.repeat(262_144) }),
        }),
      ),
    );
    expect(error.name).toBe('ValidationException');
  });

  it('names unknown machines and executions', async () => {
    const machine = await rejection(
      sfn.send(
        new StartExecutionCommand({
          stateMachineArn: `${local.runtime.stateMachineArns.async}Nope`,
        }),
      ),
    );
    expect(machine.name).toBe('StateMachineDoesNotExist');
    const execution = await rejection(
      sfn.send(
        new DescribeExecutionCommand({
          executionArn: 'arn:aws:states:us-east-1:000000000000:execution:ImageBatchAsync:nope',
        }),
      ),
    );
    expect(execution.name).toBe('ExecutionDoesNotExist');
  });

  it('answers an operation it does not implement with UnknownOperationException', async () => {
    const res = await fetch(local.runtime.sfnUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'AWSStepFunctions.CreateActivity',
      },
      body: '{}',
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      __type: 'UnknownOperationException',
      message: expect.stringContaining('CreateActivity'),
    });
  });
});
