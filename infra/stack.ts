/** The whole service: staging bucket, the two Lambdas, the request workflows and the
 * large-batch one, the API, and the dashboard and alarms that watch them. One stack per stage
 * (`-c stage=<name>`). */
import {
  Annotations,
  CfnOutput,
  Duration,
  RemovalPolicy,
  Stack,
  type StackProps,
} from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  HttpMethods,
  ObjectOwnership,
} from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { STAGING_PREFIX } from '../lambdas/ingest/staging.ts';
import { DEFINITION_FILE, LARGE_BATCH_DEFINITION_FILE } from '../statemachine/definition.ts';
import { type AuthMode, ImageApi } from './api.ts';
import { mapConcurrencyOf } from './asl.ts';
import { ImageFunctions } from './functions.ts';
import { Monitoring } from './monitoring.ts';
import { acknowledgeJustifiedFindings } from './nag.ts';
import {
  DEFAULT_STAGE,
  FUNCTION_SETTINGS,
  LARGE_BATCH_KEYS,
  LARGE_BATCH_RETENTION_DAYS,
  largeBatchConcurrencyFor,
  metricsNamespaceFor,
} from './settings.ts';
import { ImageWorkflows } from './workflows.ts';

export interface ImageBatchStackProps extends StackProps {
  /** Names derive from it: the API stage, the metrics namespace, the log groups. */
  stage?: string;
  /** IAM (SigV4) unless said otherwise. */
  auth?: AuthMode;
  /** Required with auth apiKey: what the key is for. */
  apiKeyPurpose?: string;
  /** An existing SNS topic for the alarms; one is created otherwise. */
  alarmTopicArn?: string;
  /** Reserved concurrency of the analysis function. */
  analysisConcurrency?: number;
}

export class ImageBatchStack extends Stack {
  readonly functions: ImageFunctions;
  readonly workflows: ImageWorkflows;
  readonly staging: Bucket;
  readonly api: ImageApi;
  readonly monitoring: Monitoring;
  readonly stage: string;

  constructor(scope: Construct, id: string, props: ImageBatchStackProps = {}) {
    super(scope, id, props);
    this.stage = props.stage ?? DEFAULT_STAGE;
    const metricsNamespace = metricsNamespaceFor(this.stage);
    const analysisConcurrency =
      props.analysisConcurrency ?? FUNCTION_SETTINGS.analyze.reservedConcurrency;
    // Below the Map's own concurrency, a single batch would throttle itself; at it, a large
    // batch would have no analysis left.
    const mapConcurrency = mapConcurrencyOf(DEFINITION_FILE);
    if (analysisConcurrency < mapConcurrency)
      throw new Error(
        `The analysis concurrency (${analysisConcurrency}) must be at least the workflow Map's MaxConcurrency (${mapConcurrency}).`,
      );
    const largeBatchConcurrency = largeBatchConcurrencyFor(analysisConcurrency, mapConcurrency);
    if (largeBatchConcurrency < 1)
      throw new Error(
        `The analysis concurrency (${analysisConcurrency}) must exceed the workflow Map's MaxConcurrency (${mapConcurrency}): large batches get what is left.`,
      );

    // The claim-check: every request's images, staged for the seconds it takes to analyze
    // them. The workflow deletes each request's object once its Map is done ("Discard staged
    // images"); the lifecycle rule catches what a failed delete left.
    this.staging = new Bucket(this, 'Staging', {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      lifecycleRules: [
        {
          id: 'expire-staged-images',
          prefix: STAGING_PREFIX,
          expiration: Duration.days(1),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
        {
          id: 'expire-batch-uploads',
          prefix: LARGE_BATCH_KEYS.uploads,
          expiration: Duration.days(LARGE_BATCH_RETENTION_DAYS.uploads),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
        {
          id: 'expire-batch-results',
          prefix: LARGE_BATCH_KEYS.results,
          expiration: Duration.days(LARGE_BATCH_RETENTION_DAYS.results),
          // The ResultWriter writes large result files in parts.
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
      // Browsers upload large batches straight to the bucket with the ingest's presigned POST
      // forms: a form POST to the bucket's URL, from whatever page the client runs. Only POST
      // (no cross-origin reads or PUTs); the form's policy, signed by the ingest, decides what
      // may be written. ETag exposed so a client can record what it uploaded.
      cors: [
        {
          allowedMethods: [HttpMethods.POST],
          allowedOrigins: ['*'],
          allowedHeaders: ['Content-Type'],
          exposedHeaders: ['ETag'],
          maxAge: 3600,
        },
      ],
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: true,
    });

    this.functions = new ImageFunctions(this, 'Functions', {
      analysisConcurrency,
      metricsNamespace,
    });
    const { analyze, ingest } = this.functions;
    this.workflows = new ImageWorkflows(this, 'Workflows', {
      analyze,
      staging: this.staging,
    });
    const { sync, async, large } = this.workflows;
    // One large batch in flight: its child batches at once (MaxConcurrencyPath, read from the
    // run's input, where the ingest puts LARGE_BATCH_MAX_CONCURRENCY) times the analyses each
    // runs. Above its share it throttles; below, the ASL does not take the share it is given.
    const largeInFlight = mapConcurrencyOf(LARGE_BATCH_DEFINITION_FILE, largeBatchConcurrency);
    if (largeInFlight !== largeBatchConcurrency)
      Annotations.of(large).addWarning(
        `One large batch may run ${largeInFlight} analyses at once where its share of the analysis function's reserved ${analysisConcurrency} is ${largeBatchConcurrency}: ${largeInFlight > largeBatchConcurrency ? 'it would throttle itself and the small batches, and images would fail after their retries' : 'the rest of its share would sit idle'}. Let its Distributed Map read MaxConcurrencyPath from $.batching.maxConcurrency (the ingest's LARGE_BATCH_MAX_CONCURRENCY) and invoke the analysis once per child batch.`,
      );

    // Least privilege: each function touches staged objects only, and only as it must (the
    // grant helpers would add List*, GetBucket* and the like).
    const stagedObjects = this.staging.arnForObjects(`${STAGING_PREFIX}*`);
    ingest.addToRolePolicy(
      new PolicyStatement({
        actions: ['s3:PutObject', 's3:DeleteObject'],
        resources: [stagedObjects],
      }),
    );
    // The analysis only reads: the workflows delete what they staged.
    analyze.addToRolePolicy(
      new PolicyStatement({ actions: ['s3:GetObject'], resources: [stagedObjects] }),
    );
    // The workflow deletes each batch's staged object once its Map is done (aws-sdk:s3 task).
    for (const machine of [sync, async]) {
      machine.addToRolePolicy(
        new PolicyStatement({ actions: ['s3:DeleteObject'], resources: [stagedObjects] }),
      );
    }
    sync.grantStartSyncExecution(ingest);
    async.grantStartExecution(ingest);
    ingest.addToRolePolicy(
      new PolicyStatement({
        actions: ['states:DescribeExecution'],
        resources: [this.workflows.executionsOf(async)],
      }),
    );

    ingest.addEnvironment('SYNC_STATE_MACHINE_ARN', sync.stateMachineArn);
    ingest.addEnvironment('ASYNC_STATE_MACHINE_ARN', async.stateMachineArn);
    ingest.addEnvironment('STAGING_BUCKET', this.staging.bucketName);
    this.grantLargeBatches(largeBatchConcurrency);

    this.api = new ImageApi(this, 'Api', {
      ingest,
      auth: props.auth ?? 'iam',
      stageName: this.stage,
      apiKeyPurpose: props.apiKeyPurpose,
    });

    this.monitoring = new Monitoring(this, 'Monitoring', {
      stage: this.stage,
      metricsNamespace,
      apiStage: this.api.api.deploymentStage,
      analyze: {
        service: FUNCTION_SETTINGS.analyze.name,
        fn: analyze,
        reservedConcurrency: analysisConcurrency,
      },
      ingest: { service: FUNCTION_SETTINGS.ingest.name, fn: ingest },
      workflows: this.workflows.all,
      alarmTopicArn: props.alarmTopicArn,
    });

    const consoleUrl = (arn: string) =>
      `https://${this.region}.console.aws.amazon.com/states/home?region=${this.region}#/statemachines/view/${arn}`;
    new CfnOutput(this, 'ApiUrl', { value: this.api.api.url, description: 'POST /shape here' });
    new CfnOutput(this, 'ApiInvokeResource', {
      value: this.api.api.arnForExecuteApi(),
      description: 'Grant execute-api:Invoke on this to the callers (IAM auth)',
    });
    new CfnOutput(this, 'SyncStateMachineArn', { value: sync.stateMachineArn });
    new CfnOutput(this, 'AsyncStateMachineArn', { value: async.stateMachineArn });
    new CfnOutput(this, 'SyncStateMachineConsoleUrl', {
      value: consoleUrl(sync.stateMachineArn),
      description: 'Express runs: open "Monitoring" / the execution list (from CloudWatch Logs)',
    });
    new CfnOutput(this, 'AsyncStateMachineConsoleUrl', {
      value: consoleUrl(async.stateMachineArn),
    });
    new CfnOutput(this, 'LargeBatchStateMachineArn', { value: large.stateMachineArn });
    new CfnOutput(this, 'LargeBatchStateMachineConsoleUrl', {
      value: consoleUrl(large.stateMachineArn),
      description: 'Large batches: each run, its Map Run and the child batches',
    });
    new CfnOutput(this, 'StagingBucketName', { value: this.staging.bucketName });
    new CfnOutput(this, 'DashboardUrl', {
      value: `https://${this.region}.console.aws.amazon.com/cloudwatch/home?region=${this.region}#dashboards/dashboard/${this.monitoring.dashboard.dashboardName}`,
    });
    new CfnOutput(this, 'AlarmTopicArn', {
      value: this.monitoring.topic.topicArn,
      description: 'Subscribe to it: aws sns subscribe --topic-arn <arn> --protocol email …',
    });
    if (this.api.apiKeyId) {
      new CfnOutput(this, 'ApiKeyId', {
        value: this.api.apiKeyId,
        description: 'aws apigateway get-api-key --include-value --api-key <id>',
      });
    }

    acknowledgeJustifiedFindings(this);
  }

  /**
   * The functions' side of large batches (the workflow's own grants are in workflows.ts). The
   * ingest hands out presigned POSTs — signed with its role, so it needs PutObject on what they
   * upload —, writes each batch's declaration and manifest, checks the uploads, reads the
   * results, deletes the uploads (ListBucket and DeleteObject, which DeleteObjects needs per
   * key: DELETE /batches/{id}), and starts, follows and stops the workflow (each run told how many
   * child batches it may analyze at once); the analysis reads the uploaded images (the
   * workflow's child batches delete them: workflows.ts).
   */
  private grantLargeBatches(largeBatchConcurrency: number) {
    const { ingest, analyze } = this.functions;
    const { large } = this.workflows;
    const uploads = this.staging.arnForObjects(`${LARGE_BATCH_KEYS.uploads}*`);
    const results = this.staging.arnForObjects(`${LARGE_BATCH_KEYS.results}*`);
    ingest.addToRolePolicy(
      new PolicyStatement({
        actions: ['s3:PutObject', 's3:GetObject', 's3:DeleteObject'],
        resources: [uploads],
      }),
    );
    ingest.addToRolePolicy(
      new PolicyStatement({ actions: ['s3:GetObject'], resources: [results] }),
    );
    // Listing under batches/ only: which uploads arrived. (The condition is on the prefix a
    // ListObjects asks for; a HEAD of a missing key may still answer 403 rather than 404.)
    ingest.addToRolePolicy(
      new PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [this.staging.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${LARGE_BATCH_KEYS.uploads}*`] } },
      }),
    );
    analyze.addToRolePolicy(
      new PolicyStatement({ actions: ['s3:GetObject'], resources: [uploads] }),
    );
    large.grantStartExecution(ingest);
    ingest.addToRolePolicy(
      new PolicyStatement({
        // ListMapRuns takes the execution as its resource (Service Authorization Reference);
        // StopExecution is DELETE /batches/{id} of a running batch.
        actions: ['states:DescribeExecution', 'states:ListMapRuns', 'states:StopExecution'],
        resources: [this.workflows.executionsOf(large)],
      }),
    );
    ingest.addToRolePolicy(
      new PolicyStatement({
        actions: ['states:DescribeMapRun'],
        resources: [this.workflows.mapRunsOf(large, LARGE_BATCH_DEFINITION_FILE)],
      }),
    );
    ingest.addEnvironment('LARGE_BATCH_STATE_MACHINE_ARN', large.stateMachineArn);
    // Its Distributed Map's concurrency, which the ingest puts in each run's input.
    ingest.addEnvironment('LARGE_BATCH_MAX_CONCURRENCY', String(largeBatchConcurrency));
  }
}
