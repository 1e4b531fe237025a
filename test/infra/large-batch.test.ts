/**
 * The stack side of large batches: the STANDARD workflow running a Distributed Map over a
 * manifest, the grants it and the functions need (each statement checked against its
 * resources, and nothing on `*` but what AWS offers no resource for), the bucket's lifecycle
 * rules and CORS for browser uploads, the ingest's environment, and the alarms. Synthesized
 * once without bundling, from the real ASL file.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { distributedMapLabelOf, mapConcurrencyOf } from '../../infra/asl.ts';
import { largeBatchConcurrencyFor } from '../../infra/settings.ts';
import { DEFINITION_FILE, LARGE_BATCH_DEFINITION_FILE } from '../../statemachine/definition.ts';
import { logicalId, synth } from './synth.ts';

type Json = Record<string, unknown>;

const { template, assembly, stack } = synth();
const { large, async } = stack.workflows;
const { ingest, analyze } = stack.functions;
const bucket = logicalId(stack.staging);
const machineProps = () =>
  template.findResources('AWS::StepFunctions::StateMachine')[logicalId(large)]?.Properties;

interface Statement {
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}
type HasRole = { role?: { node: { defaultChild?: unknown } } };
/** Every statement of every policy attached to a function's or machine's role, with its
 * actions as a list. */
const statementsOf = (owner: HasRole) =>
  Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((p) =>
      JSON.stringify(p.Properties.Roles).includes(`"${logicalId(owner.role as never)}"`),
    )
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[])
    .map((s) => ({ ...s, actions: [s.Action].flat() }));
/** The actions a role may perform on resources whose rendering contains `fragment`. */
const actionsOn = (owner: HasRole, fragment: string) =>
  statementsOf(owner)
    .filter((s) => JSON.stringify(s.Resource).includes(fragment))
    .flatMap((s) => s.actions)
    .sort();
const objects = (pattern: string) => ({
  'Fn::Join': ['', [{ 'Fn::GetAtt': [bucket, 'Arn'] }, `/${pattern}`]],
});
/** AWS offers no resource-level permission for these: `*` is what its own policies use. */
const NO_RESOURCE_ACTIONS =
  /^(xray:(PutTraceSegments|PutTelemetryRecords|GetSamplingRules|GetSamplingTargets)|logs:(CreateLogDelivery|GetLogDelivery|UpdateLogDelivery|DeleteLogDelivery|ListLogDeliveries|PutResourcePolicy|DescribeResourcePolicies|DescribeLogGroups))$/;

describe('the large-batch workflow', () => {
  it('is a STANDARD machine, logging everything and traced, from the ASL file', () => {
    expect(machineProps()).toMatchObject({
      StateMachineType: 'STANDARD',
      LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: true },
      TracingConfiguration: { Enabled: true },
      DefinitionSubstitutions: {
        AnalyzeFunctionArn: { 'Fn::GetAtt': [logicalId(analyze), 'Arn'] },
      },
    });
    const asset = readFileSync(
      path.join(assembly.directory, `asset.${machineProps()?.DefinitionS3Location.Key}`),
      'utf8',
    );
    expect(asset).toBe(readFileSync(LARGE_BATCH_DEFINITION_FILE, 'utf8'));
  });

  it('runs a DISTRIBUTED Map that reads a manifest from S3, batches it, and writes its results to S3', () => {
    const maps = Object.values(
      JSON.parse(readFileSync(LARGE_BATCH_DEFINITION_FILE, 'utf8')).States as Record<
        string,
        Record<string, { [k: string]: unknown }>
      >,
    ).filter((s) => s.Type === ('Map' as never));
    const distributed = maps.find((m) => m.ItemProcessor?.ProcessorConfig);
    expect(distributed?.ItemProcessor?.ProcessorConfig).toMatchObject({
      Mode: 'DISTRIBUTED',
      ExecutionType: 'EXPRESS',
    });
    expect(distributed?.ItemReader).toMatchObject({ Resource: 'arn:aws:states:::s3:getObject' });
    // Each batch names its view once: the function cuts its records to what the view renders.
    expect(distributed?.ItemBatcher).toMatchObject({ BatchInput: { 'view.$': '$.view' } });
    expect(distributed?.ResultWriter).toMatchObject({
      Resource: 'arn:aws:states:::s3:putObject',
    });
  });

  it('may start its own child workflows, follow and stop them, and nothing broader', () => {
    const label = distributedMapLabelOf(LARGE_BATCH_DEFINITION_FILE);
    expect(label).toBe('Images');
    expect(actionsOn(large, `"Ref":"${logicalId(large)}"`)).toEqual(['states:StartExecution']);
    const children = statementsOf(large).filter((s) =>
      JSON.stringify(s.Resource).includes(`:execution:`),
    );
    expect(children.flatMap((s) => s.actions).sort()).toEqual([
      'states:DescribeExecution',
      'states:StopExecution',
    ]);
    expect(JSON.stringify(children[0]?.Resource)).toContain(
      `{"Fn::GetAtt":["${logicalId(large)}","Name"]},"/${label}:*"`,
    );
  });

  it('reads the manifests, writes the results as the ResultWriter needs, deletes the uploads it analyzed, and invokes the analysis', () => {
    expect(
      statementsOf(large).find(
        (s) =>
          s.actions.includes('s3:GetObject') && JSON.stringify(s.Resource).includes('manifest'),
      )?.Resource,
    ).toEqual(objects('batches/*/manifest.jsonl'));
    expect(actionsOn(large, '/results/*')).toEqual([
      's3:AbortMultipartUpload',
      's3:GetObject',
      's3:ListMultipartUploadParts',
      's3:PutObject',
    ]);
    expect(actionsOn(large, logicalId(analyze))).toEqual(['lambda:InvokeFunction']);
    // Its child batches delete their uploaded images ("Discard uploads", with this role), and
    // do nothing else to them.
    expect(actionsOn(large, '/batches/*"')).toEqual(['s3:DeleteObject']);
    // Nothing else on S3: not the staging prefix.
    const s3 = statementsOf(large).filter((s) => s.actions.some((a) => a.startsWith('s3:')));
    expect(s3.map((s) => JSON.stringify(s.Resource)).sort()).toEqual(
      [objects('batches/*'), objects('batches/*/manifest.jsonl'), objects('results/*')].map((r) =>
        JSON.stringify(r),
      ),
    );
  });

  it('has `*` resources only for actions that take no resource', () => {
    for (const role of [large, ingest, analyze])
      for (const s of statementsOf(role).filter((s) => s.Resource === '*'))
        for (const action of s.actions) expect(action).toMatch(NO_RESOURCE_ACTIONS);
  });
});

describe('the ingest, for large batches', () => {
  const env = () =>
    template.findResources('AWS::Lambda::Function')[logicalId(ingest)]?.Properties.Environment
      .Variables as Record<string, unknown>;

  it('is given the machine by LARGE_BATCH_STATE_MACHINE_ARN, its concurrency by LARGE_BATCH_MAX_CONCURRENCY, and the deployer by the outputs', () => {
    expect(env().LARGE_BATCH_STATE_MACHINE_ARN).toEqual({ Ref: logicalId(large) });
    // The default reserved 20, less a full small batch's 10.
    expect(env().LARGE_BATCH_MAX_CONCURRENCY).toBe('10');
    template.hasOutput('LargeBatchStateMachineArn', { Value: { Ref: logicalId(large) } });
    template.hasOutput('LargeBatchStateMachineConsoleUrl', Match.anyValue());
  });

  it('may start the machine, describe and stop its executions, list and describe their Map Runs', () => {
    expect(actionsOn(ingest, `"Ref":"${logicalId(large)}"`)).toEqual(['states:StartExecution']);
    const name = `{"Fn::GetAtt":["${logicalId(large)}","Name"]}`;
    expect(actionsOn(ingest, `:execution:",${name},":*"`)).toEqual([
      'states:DescribeExecution',
      'states:ListMapRuns',
      'states:StopExecution',
    ]);
    // DELETE /batches/{id} stops a large batch's run, and nothing else: no other machine's
    // runs, and not the Map Run's children (`execution:<machine>/Images:<id>`) one by one.
    const stops = statementsOf(ingest).filter((s) => s.actions.includes('states:StopExecution'));
    expect(stops.map((s) => JSON.stringify(s.Resource))).toEqual([
      expect.stringContaining(`:execution:",${name},":*"`),
    ]);
    expect(actionsOn(ingest, `:mapRun:",${name},"/Images:*"`)).toEqual(['states:DescribeMapRun']);
    // The other machines' executions are not its to list.
    expect(actionsOn(ingest, `${logicalId(async)}","Name"]},":*"`)).toEqual([
      'states:DescribeExecution',
    ]);
  });

  it('may sign uploads under batches/, read, list and delete them (DELETE /batches/{id}: ListObjectsV2 and DeleteObjects), and read results', () => {
    expect(actionsOn(ingest, '/batches/*"')).toEqual([
      's3:DeleteObject',
      's3:GetObject',
      's3:PutObject',
    ]);
    expect(actionsOn(ingest, '/results/*"')).toEqual(['s3:GetObject']);
    const list = statementsOf(ingest).find((s) => s.actions.includes('s3:ListBucket'));
    expect(list?.Resource).toEqual({ 'Fn::GetAtt': [bucket, 'Arn'] });
    expect(list?.Condition).toEqual({ StringLike: { 's3:prefix': ['batches/*'] } });
  });

  it('leaves the analysis to read the uploaded images, and the workflow to delete them', () => {
    expect(actionsOn(analyze, '/batches/*"')).toEqual(['s3:GetObject']);
    expect(actionsOn(analyze, '/results/')).toEqual([]);
  });
});

describe('the staging bucket, for large batches', () => {
  it('expires uploads after a day and results after seven, and aborts unfinished multipart uploads', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({
            Prefix: 'batches/',
            ExpirationInDays: 1,
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
            Status: 'Enabled',
          }),
          Match.objectLike({
            Prefix: 'results/',
            ExpirationInDays: 7,
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
            Status: 'Enabled',
          }),
        ]),
      },
    });
  });

  it('takes browser form POSTs from any origin, and nothing else cross-origin, exposing the ETag', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      CorsConfiguration: {
        CorsRules: [
          {
            AllowedMethods: ['POST'],
            AllowedOrigins: ['*'],
            AllowedHeaders: ['Content-Type'],
            ExposedHeaders: ['ETag'],
            MaxAge: 3600,
          },
        ],
      },
      // Still private: a presigned form is the only way in.
      PublicAccessBlockConfiguration: Match.objectLike({ BlockPublicPolicy: true }),
    });
  });
});

describe('monitoring of large batches', () => {
  const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));

  it('alarms when a large batch fails or times out as a whole', () => {
    const on = alarms.filter((a) => {
      const text = JSON.stringify(a.Properties);
      return text.includes(logicalId(large)) && text.includes('"MetricName":"ExecutionsFailed"');
    });
    expect(on).toHaveLength(1);
    expect(JSON.stringify(on[0])).toContain('"MetricName":"ExecutionsTimedOut"');
    expect(on[0]?.Properties.AlarmDescription).toMatch(/Map Run failed/);
  });

  it('alarms as the account nears its open Map Runs quota, and graphs the backlog', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/States',
      MetricName: 'ApproximateOpenMapRunCount',
      Statistic: 'Maximum',
      Threshold: 900,
    });
    const body = JSON.stringify(
      Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0]?.Properties
        .DashboardBody,
    );
    expect(body).toContain('ApproximateMapRunBacklogSize');
  });
});

describe('concurrency of large batches', () => {
  const distributedMapOf = (file: string) =>
    Object.values(JSON.parse(readFileSync(file, 'utf8')).States as Record<string, Json>).find(
      (state) => (state.ItemProcessor as Json | undefined)?.ProcessorConfig,
    );

  it('counts analyses in flight through nested Maps, and Distributed Map children', () => {
    expect(mapConcurrencyOf(DEFINITION_FILE)).toBe(10);
    // Children at once, from MaxConcurrencyPath, times one analysis each.
    expect(mapConcurrencyOf(LARGE_BATCH_DEFINITION_FILE, 7)).toBe(7);
    expect(mapConcurrencyOf(LARGE_BATCH_DEFINITION_FILE)).toBe(Number.POSITIVE_INFINITY);
  });

  it('gives a large batch what a small one leaves of the reserved concurrency', () => {
    expect(largeBatchConcurrencyFor(20, mapConcurrencyOf(DEFINITION_FILE))).toBe(10);
    expect(largeBatchConcurrencyFor(20)).toBe(10);
    expect(() => synth({ analysisConcurrency: 10 })).toThrow(/must exceed the workflow Map/);
  });

  it('takes the Distributed Map concurrency from the run input, never a fixed number', () => {
    const map = distributedMapOf(LARGE_BATCH_DEFINITION_FILE);
    expect(map?.MaxConcurrencyPath).toBe('$.batching.maxConcurrency');
    expect(map).not.toHaveProperty('MaxConcurrency');
  });

  it('gives the ingest the share of a wider analysisConcurrency as LARGE_BATCH_MAX_CONCURRENCY, and warns of nothing', () => {
    const { stack: wider, template: widerTemplate } = synth({ analysisConcurrency: 40 });
    const share = largeBatchConcurrencyFor(40, 10);
    expect(share).toBe(30);
    const functions = widerTemplate.findResources('AWS::Lambda::Function');
    const ingestEnv =
      functions[logicalId(wider.functions.ingest)]?.Properties.Environment.Variables;
    expect(ingestEnv.LARGE_BATCH_MAX_CONCURRENCY).toBe(String(share));
    expect(
      functions[logicalId(wider.functions.analyze)]?.Properties.ReservedConcurrentExecutions,
    ).toBe(40);
    // CloudFormation is given nothing for the concurrency: no substitution carries it.
    const machine = widerTemplate.findResources('AWS::StepFunctions::StateMachine')[
      logicalId(wider.workflows.large)
    ];
    expect(Object.keys(machine?.Properties.DefinitionSubstitutions)).toEqual([
      'AnalyzeFunctionArn',
    ]);
    expect(mapConcurrencyOf(LARGE_BATCH_DEFINITION_FILE, share)).toBe(share);
    expect(Annotations.fromStack(wider).findWarning('*', Match.anyValue())).toEqual([]);
  });
});
