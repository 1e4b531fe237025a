/**
 * cdk-nag (AwsSolutions) findings we accept. Each is acknowledged on the construct it arises
 * from, finding by finding (cdk-nag 3 has no rule-wide suppression), with a reason that says
 * what is true of this stack — not more.
 */
import { type CfnElement, Stack, Validations } from 'aws-cdk-lib';
import { Topic } from 'aws-cdk-lib/aws-sns';
import type { IConstruct } from 'constructs';
import type { ImageBatchStack } from './stack.ts';

const ack = (scope: IConstruct, id: string, reason: string) =>
  Validations.of(scope).acknowledge({ id, reason });

/** How cdk-nag writes a construct's attribute in a finding: `<LogicalId.Arn>`. */
const attributeOf = (construct: IConstruct, attribute: string) =>
  `<${Stack.of(construct).getLogicalId(construct.node.defaultChild as CfnElement)}.${attribute}>`;

const BASIC_EXECUTION_ROLE =
  'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]';
const ANY_RESOURCE = 'AwsSolutions-IAM5[Resource::*]';

export const acknowledgeJustifiedFindings = (stack: ImageBatchStack) => {
  const { analyze, ingest } = stack.functions;
  const stagedObjects = `AwsSolutions-IAM5[Resource::${attributeOf(stack.staging, 'Arn')}/staging/*]`;

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
    `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${attributeOf(stack.workflows.async, 'Name')}:*]`,
    'DescribeExecution on executions of our own STANDARD machine, whose names are per-request UUIDs.',
  );

  for (const { machine } of stack.workflows.all) {
    ack(
      machine,
      ANY_RESOURCE,
      'X-Ray and CloudWatch Logs delivery (logs:CreateLogDelivery and the like) take no resource.',
    );
    ack(
      machine,
      `AwsSolutions-IAM5[Resource::${attributeOf(analyze, 'Arn')}:*]`,
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
    'Object-level access is not logged. Objects live for the seconds an analysis takes, only the two functions’ roles may touch them (least-privilege policies, TLS only, public access blocked), and server access logs would be a second bucket of request records outliving the data. Where an audit trail is required, enable CloudTrail S3 data events for this bucket.',
  );

  const api = stack.api.api;
  ack(
    api,
    'AwsSolutions-APIG2',
    'Bodies are images and multipart forms, which API Gateway models cannot validate; the ingest validates every request and answers JSON 4xx. Path parameters are validated by a request validator.',
  );
  ack(
    api,
    'AwsSolutions-APIG3',
    'No WAF web ACL: it is billed per ACL and per request, and its rules are the deployer’s to choose (associate one with the stage if needed). Without it, requests are limited by authorization (IAM unless deployed otherwise) and the stage’s throttling, which AWS applies on a best-effort basis and which bounds cost, not abuse.',
  );
  if (stack.api.auth === 'none')
    ack(
      api,
      'AwsSolutions-APIG4',
      'Deployed on purpose without authorization (-c auth=none, warned at synth): a demo deploy. The default is IAM.',
    );
  if (stack.api.auth === 'apiKey')
    ack(
      api,
      'AwsSolutions-APIG4',
      'Deployed on purpose with an API key (-c auth=apiKey and a stated purpose): the key identifies a client for its usage plan and is not authorization. The default is IAM.',
    );
  ack(
    api,
    'AwsSolutions-COG4',
    stack.api.auth === 'iam'
      ? 'Authorization is IAM (SigV4): callers are services with AWS credentials, not Cognito users.'
      : 'No Cognito user pool: the API has no end users; its authorization mode was chosen at deploy (see APIG4).',
  );

  const { topic } = stack.monitoring;
  if (topic instanceof Topic)
    ack(
      topic,
      'AwsSolutions-SNS2',
      'Not encrypted at rest: CloudWatch alarms cannot publish to a topic under the AWS-managed SNS key, and messages are alarm state changes (no request data). Pass -c alarmTopicArn= for a topic under a customer-managed key.',
    );
};
