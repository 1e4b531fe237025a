/** `npx cdk synth` / `npx cdk deploy`. Choose the API's auth with `-c auth=none|apiKey|iam`. */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { parseAuthMode } from './api.ts';
import { ImageBatchStack } from './stack.ts';

const app = new App();
new ImageBatchStack(app, 'ImageBatch', {
  description: 'Serverless image-batch analysis on AWS Step Functions',
  auth: parseAuthMode(app.node.tryGetContext('auth')),
});
// Every synth is checked against the AWS Solutions rules: an unacknowledged finding fails it.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
app.synth();
