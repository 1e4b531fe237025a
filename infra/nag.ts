/**
 * cdk-nag (AwsSolutions) findings we accept. Each is acknowledged on the construct it arises
 * from, finding by finding (cdk-nag 3 has no rule-wide suppression), with its reason.
 */
import { type CfnElement, Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import type { ImageBatchStack } from './stack.ts';

const ack = (scope: IConstruct, id: string, reason: string) =>
  Validations.of(scope).acknowledge({ id, reason });

/** How cdk-nag writes a construct's ARN in a finding: `<LogicalId.Arn>`. */
const arnOf = (construct: IConstruct) =>
  `<${Stack.of(construct).getLogicalId(construct.node.defaultChild as CfnElement)}.Arn>`;

const BASIC_EXECUTION_ROLE =
  'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]';
const API_LOGGING_ROLE =
  'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]';
const ANY_RESOURCE = 'AwsSolutions-IAM5[Resource::*]';

export const acknowledgeJustifiedFindings = (stack: ImageBatchStack) => {
  const { analyze, ingest } = stack.functions;
  const { sync, async } = stack.workflows;
  const stagedObjects = `AwsSolutions-IAM5[Resource::${arnOf(stack.staging)}/staging/*]`;

  for (const fn of [analyze, ingest]) {
    ack(
      fn,
      BASIC_EXECUTION_ROLE,
      'The AWS-maintained minimal policy for writing the function’s own logs.',
    );
    ack(fn, ANY_RESOURCE, 'X-Ray’s PutTraceSegments and PutTelemetryRecords take no resource.');
    ack(
      fn,
      stagedObjects,
      'Staged objects only (keys are per-execution UUIDs), and only the actions the function performs on them.',
    );
  }
  ack(
    ingest,
    `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${stack.workflows.names.get(async)}:*]`,
    'DescribeExecution on executions of our own STANDARD machine, whose names are per-request UUIDs.',
  );

  for (const machine of [sync, async]) {
    ack(
      machine,
      ANY_RESOURCE,
      'X-Ray and CloudWatch Logs delivery (logs:CreateLogDelivery and the like) take no resource.',
    );
    ack(
      machine,
      `AwsSolutions-IAM5[Resource::${arnOf(analyze)}:*]`,
      'lambda:invoke may target the analysis function’s versions and aliases; it is the one function the workflow calls.',
    );
    ack(
      machine,
      stagedObjects,
      'DeleteObject only, on staged objects (keys are per-execution UUIDs): the workflow removes each batch’s object once analyzed.',
    );
  }

  ack(
    stack.staging,
    'AwsSolutions-S1',
    'Objects live for the seconds an analysis takes and every access is by our two roles, visible in the workflow history; server access logs would outlive the data they describe.',
  );

  const api = stack.api.api;
  ack(
    api,
    API_LOGGING_ROLE,
    'The AWS-maintained policy of the account-level role API Gateway needs to write execution logs.',
  );
  ack(
    api,
    'AwsSolutions-APIG2',
    'Bodies are images and multipart forms, which API Gateway models cannot validate; the ingest validates every request and answers JSON 4xx. Path parameters are validated by a request validator.',
  );
  ack(
    api,
    'AwsSolutions-APIG3',
    'WAF is an account-level choice with its own cost; stage throttling (and the usage plan with -c auth=apiKey) bound abuse here.',
  );
  ack(
    api,
    'AwsSolutions-APIG4',
    'Authorization is chosen at deploy time: -c auth=iam (SigV4) or -c auth=apiKey (usage plan); the default, none, is for trying the service out.',
  );
  ack(
    api,
    'AwsSolutions-COG4',
    'Callers are services, authenticated by IAM or an API key (selectable by context), not Cognito users.',
  );
};
