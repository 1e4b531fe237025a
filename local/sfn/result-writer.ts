/**
 * ResultWriter: the child executions' results exported to S3 as AWS lays them out —
 * `<Prefix>/<map run id>/manifest.json` naming one file per status (`SUCCEEDED_0.json`,
 * `FAILED_0.json`, `PENDING_0.json`), each a JSON array of execution records (the NONE
 * transformation, the default when exporting).
 * https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html
 *
 * Not reproduced: WriterConfig (COMPACT/FLATTEN, JSONL output) is refused when the machine is
 * created, and AWS's 5 GB split of a status into several files never happens locally.
 */
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { namedError } from '../functions.ts';
import type { Execution } from './execution.ts';

const PUT_OBJECT = 'arn:aws:states:::s3:putObject';

export interface ResultWriterDefinition {
  Resource?: string;
  Parameters?: Record<string, unknown>;
  WriterConfig?: unknown;
}

export const checkResultWriter = (writer: ResultWriterDefinition): void => {
  if (writer.Resource !== PUT_OBJECT || writer.WriterConfig !== undefined) {
    throw new Error(
      `ResultWriter is supported by the local Step Functions with Resource ${PUT_OBJECT} and Parameters {Bucket, Prefix}, without WriterConfig`,
    );
  }
};

/** One child execution as a result file holds it. A failed one carries Error and Cause in
 * place of Output, as DescribeExecution does. */
export const executionRecord = (e: Execution) => ({
  ExecutionArn: e.executionArn,
  Input: e.input,
  InputDetails: { Included: true },
  Name: e.name,
  ...(e.status === 'SUCCEEDED'
    ? { Output: e.output, OutputDetails: { Included: true } }
    : { Error: e.error, Cause: e.cause }),
  RedriveCount: 0,
  // Redrive is not implemented locally: no execution is redrivable.
  RedriveStatus: 'NOT_REDRIVABLE',
  RedriveStatusReason:
    e.status === 'SUCCEEDED'
      ? 'Execution is SUCCEEDED and cannot be redriven'
      : 'Redrive is not supported by the local Step Functions',
  StartDate: e.startDate.toISOString(),
  StateMachineArn: e.stateMachineArn,
  Status: e.status,
  StopDate: e.stopDate?.toISOString(),
});

export type ExecutionRecord = ReturnType<typeof executionRecord>;

/** Writes the result files and the manifest; answers what the Map state outputs in
 * `ResultWriterDetails`. */
export const writeResults = async (
  s3: S3Client,
  parameters: { Bucket?: unknown; Prefix?: unknown },
  mapRun: { mapRunArn: string; id: string },
  records: { SUCCEEDED: ExecutionRecord[]; FAILED: ExecutionRecord[]; PENDING: ExecutionRecord[] },
): Promise<{ Bucket: string; Key: string }> => {
  const bucket = parameters.Bucket;
  if (typeof bucket !== 'string') {
    throw namedError('States.ResultWriterFailed', 'ResultWriter Parameters need a Bucket');
  }
  const prefix = typeof parameters.Prefix === 'string' ? parameters.Prefix : '';
  const folder = `${prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`}${mapRun.id}/`;
  const put = async (key: string, body: string) => {
    try {
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: body,
          ContentType: 'application/json',
        }),
      );
    } catch (error) {
      throw namedError(
        'States.ResultWriterFailed',
        `Writing s3://${bucket}/${key} failed: ${error instanceof Error ? error.name : error}`,
      );
    }
    return { Key: key, Size: Buffer.byteLength(body) };
  };
  const files = async (status: keyof typeof records) => {
    const list = records[status];
    return list.length === 0 ? [] : [await put(`${folder}${status}_0.json`, JSON.stringify(list))];
  };
  const [FAILED, PENDING, SUCCEEDED] = await Promise.all([
    files('FAILED'),
    files('PENDING'),
    files('SUCCEEDED'),
  ]);
  const manifest = {
    DestinationBucket: bucket,
    MapRunArn: mapRun.mapRunArn,
    ResultFiles: { FAILED, PENDING, SUCCEEDED },
  };
  const key = `${folder}manifest.json`;
  await put(key, JSON.stringify(manifest));
  return { Bucket: bucket, Key: key };
};
