/**
 * `npx cdk synth` / `npx cdk deploy`, configured by context:
 *   -c stage=<name>                 one stack per stage, ImageBatch-<stage> (default dev)
 *   -c auth=iam|none|apiKey         IAM (SigV4) by default; none warns; apiKey needs
 *   -c apiKeyPurpose="…"            what the key is for (it is no access control)
 *   -c alarmTopicArn=<arn>          alarms to this SNS topic (default: one is created)
 *   -c analysisConcurrency=<n>      the analysis function's reserved concurrency
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { DEFINITION_FILE } from '../statemachine/definition.ts';
import { parseAuthMode } from './api.ts';
import { mapConcurrencyOf } from './asl.ts';
import { parseConcurrency, parseStage, stackNameFor } from './settings.ts';
import { ImageBatchStack } from './stack.ts';

const app = new App();
const context = (key: string): string | undefined => {
  const value = app.node.tryGetContext(key);
  return value === undefined || value === '' ? undefined : String(value);
};
const stage = parseStage(context('stage'));
new ImageBatchStack(app, stackNameFor(stage), {
  description: `Serverless image-batch analysis on AWS Step Functions (stage ${stage})`,
  stage,
  auth: parseAuthMode(context('auth')),
  apiKeyPurpose: context('apiKeyPurpose'),
  alarmTopicArn: context('alarmTopicArn'),
  analysisConcurrency: parseConcurrency(
    context('analysisConcurrency'),
    // A small batch's Map concurrency, and at least one analysis for a large batch.
    mapConcurrencyOf(DEFINITION_FILE) + 1,
  ),
});
// Every synth is checked against the AWS Solutions rules: an unacknowledged finding fails it.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
app.synth();
