/**
 * The large-batch workflow (statemachine/large-batch.asl.json) as `npm start` runs it: 1,000
 * images staged in the local S3, a JSONL manifest, a DISTRIBUTED Map of Express children
 * calling the real analysis Lambda, results exported to S3 — and the Map Run read back over
 * HTTP through @aws-sdk/client-sfn and the AWS CLI, as one would read it in AWS.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import {
  DescribeExecutionCommand,
  DescribeMapRunCommand,
  DescribeStateMachineForExecutionCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  ListMapRunsCommand,
  type SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { beforeAll, describe, expect, it } from 'vitest';
import { createS3Client, createSfnClient } from '../../lambdas/shared/clients.ts';
import type { AnalysisRecord, MapItem } from '../../lambdas/shared/workflow.ts';
import { REGION } from '../../local/runtime.ts';
import { oracleExpected, oracleImage } from '../support/fixtures.ts';
import { useLocalRuntime } from '../support/runtime.ts';

const run = promisify(execFile);
const local = useLocalRuntime();
const IMAGES = 1000;

let sfn: SFNClient;
let s3: S3Client;
let machineArn: string;
let bucket: string;
beforeAll(() => {
  // Configured as the local runtime configures the Lambdas' clients.
  sfn = createSfnClient(local.runtime.clientOptions.sfn);
  s3 = createS3Client(local.runtime.clientOptions.s3);
  bucket = local.runtime.stagingBucket;
  machineArn = local.runtime.stateMachineArns.largeBatch;
});

const fixtures = oracleExpected();

/** Stages `count` images (the oracle fixtures, repeated) and writes their manifest. */
const stageBatch = async (batch: string, count: number) => {
  const items: MapItem[] = [];
  for (let index = 0; index < count; index++) {
    const [filename] = fixtures[index % fixtures.length] as [string, unknown];
    items.push({
      index,
      name: 'image',
      filename,
      contentType: null,
      size: oracleImage(filename).length,
      object: { bucket, key: `staging/${batch}/${index}` },
      offset: 0,
      deadline: null,
    });
  }
  for (let i = 0; i < items.length; i += 25) {
    await Promise.all(
      items.slice(i, i + 25).map((item) =>
        s3.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: item.object.key,
            Body: oracleImage(item.filename ?? ''),
          }),
        ),
      ),
    );
  }
  const manifest = { bucket, key: `batches/${batch}/manifest.jsonl` };
  const body = `${items.map((item) => JSON.stringify(item)).join('\n')}\n`;
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: manifest.key, Body: body }));
  // The view each child's records are cut to: /analyze keeps them whole.
  return {
    manifest,
    results: { bucket, prefix: `results/${batch}` },
    // What the ingest puts there by default: the local runtime's share of the analysis.
    batching: { maxItems: 100, maxConcurrency: 10 },
    view: 'analyze',
  };
};

const getJson = async (key: string) => {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return JSON.parse((await object.Body?.transformToString()) ?? '') as unknown;
};

const settle = async (executionArn: string) => {
  for (;;) {
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (described.status !== 'RUNNING') return described;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
};

const hasAwsCli = await run('aws', ['--version']).then(
  () => true,
  () => false,
);

describe('a large batch through a DISTRIBUTED Map on the local runtime', () => {
  let executionArn: string;
  let mapRunArn: string;

  it('analyzes 1,000 staged images in batches and exports one record per image to S3', async () => {
    const input = await stageBatch('thousand', IMAGES);
    const started = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: machineArn, input: JSON.stringify(input) }),
    );
    executionArn = started.executionArn ?? '';
    const done = await settle(executionArn);
    expect(done.status).toBe('SUCCEEDED');
    const output = JSON.parse(done.output ?? '') as {
      MapRunArn: string;
      ResultWriterDetails: { Bucket: string; Key: string };
    };
    mapRunArn = output.MapRunArn;
    const id = mapRunArn.split(':').at(-1);
    expect(output.ResultWriterDetails).toEqual({
      Bucket: bucket,
      Key: `results/thousand/${id}/manifest.json`,
    });

    const manifest = (await getJson(output.ResultWriterDetails.Key)) as {
      ResultFiles: Record<'SUCCEEDED' | 'FAILED' | 'PENDING', { Key: string }[]>;
    };
    expect(manifest.ResultFiles.FAILED).toEqual([]);
    const children = (await getJson(manifest.ResultFiles.SUCCEEDED[0]?.Key ?? '')) as {
      Output: string;
    }[];
    expect(children).toHaveLength(IMAGES / 100);
    const records = children
      .flatMap((child) => JSON.parse(child.Output) as AnalysisRecord[])
      .sort((a, b) => a.index - b.index);
    expect(records.map((r) => r.index)).toEqual([...Array(IMAGES).keys()]);
    for (const record of records) {
      const [filename, expected] = fixtures[record.index % fixtures.length] as [
        string,
        { shape: number[]; nbytes: number | [] },
      ];
      expect(record.filename).toBe(filename);
      if (expected.shape.length === 0) {
        expect(record).toHaveProperty('error.code');
      } else {
        expect(record).toMatchObject({ shape: expected.shape, nbytes: expected.nbytes });
      }
    }

    // Each child deleted its batch's images once analyzed.
    const staged = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: 'staging/thousand/' }),
    );
    expect(staged.KeyCount).toBe(0);
  }, 180_000);

  it('serves the Map Run to DescribeMapRun and ListMapRuns with its item and execution counts', async () => {
    const { mapRuns } = await sfn.send(new ListMapRunsCommand({ executionArn }));
    expect(mapRuns).toEqual([
      {
        executionArn,
        mapRunArn,
        stateMachineArn: `${machineArn}/Images`,
        startDate: expect.any(Date),
        stopDate: expect.any(Date),
      },
    ]);
    const described = await sfn.send(new DescribeMapRunCommand({ mapRunArn }));
    expect(described).toMatchObject({
      mapRunArn,
      executionArn,
      status: 'SUCCEEDED',
      maxConcurrency: 10,
      toleratedFailurePercentage: 5,
      toleratedFailureCount: 0,
      itemCounts: {
        total: IMAGES,
        succeeded: IMAGES,
        failed: 0,
        pending: 0,
        resultsWritten: IMAGES,
      },
      executionCounts: { total: 10, succeeded: 10, failed: 0, running: 0, resultsWritten: 10 },
    });
    expect(described.startDate).toBeInstanceOf(Date);
  });

  it('lists and describes the Express child executions, which have no history', async () => {
    const { executions } = await sfn.send(new ListExecutionsCommand({ mapRunArn }));
    expect(executions).toHaveLength(10);
    const childArn = executions?.[0]?.executionArn ?? '';
    expect(childArn).toMatch(/:express:ImageBatchLarge\/Images:[0-9a-f-]{36}:[0-9a-f-]{36}$/);
    const child = await sfn.send(new DescribeExecutionCommand({ executionArn: childArn }));
    expect(child).toMatchObject({
      status: 'SUCCEEDED',
      mapRunArn,
      stateMachineArn: `${machineArn}/Images`,
    });
    expect(JSON.parse(child.input ?? '').Items).toHaveLength(100);
    const childMachine = await sfn.send(
      new DescribeStateMachineForExecutionCommand({ executionArn: childArn }),
    );
    expect(childMachine).toMatchObject({
      stateMachineArn: `${machineArn}/Images`,
      name: 'ImageBatchLarge/Images',
      mapRunArn,
      label: 'Images',
    });
    expect(JSON.parse(childMachine.definition ?? '').StartAt).toBe('Analyze batch');
    const history = sfn.send(new GetExecutionHistoryCommand({ executionArn: childArn }));
    await expect(history).rejects.toMatchObject({ name: 'InvalidArn' });
  });

  it('records MapRunStarted and MapRunSucceeded in the parent history', async () => {
    const { events } = await sfn.send(new GetExecutionHistoryCommand({ executionArn }));
    expect(events?.map((e) => e.type)).toEqual([
      'ExecutionStarted',
      'MapStateEntered',
      'MapStateStarted',
      'MapRunStarted',
      'MapRunSucceeded',
      'MapStateSucceeded',
      'MapStateExited',
      'ExecutionSucceeded',
    ]);
    expect(events?.[3]?.mapRunStartedEventDetails).toEqual({ mapRunArn });
  });

  it.skipIf(!hasAwsCli)('answers the AWS CLI describe-map-run and list-map-runs', async () => {
    const cli = (...args: string[]) =>
      run('aws', [
        '--endpoint-url',
        local.runtime.sfnUrl,
        '--region',
        REGION,
        '--no-sign-request',
        '--output',
        'json',
        'stepfunctions',
        ...args,
      ]).then(({ stdout }) => JSON.parse(stdout));
    const described = await cli('describe-map-run', '--map-run-arn', mapRunArn);
    expect(described).toMatchObject({
      mapRunArn,
      status: 'SUCCEEDED',
      itemCounts: { total: IMAGES, succeeded: IMAGES },
      executionCounts: { total: 10, succeeded: 10 },
    });
    const listed = await cli('list-map-runs', '--execution-arn', executionArn);
    expect(listed.mapRuns.map((m: { mapRunArn: string }) => m.mapRunArn)).toEqual([mapRunArn]);
  });
});
