/** Synthesises the stack the way `npx cdk synth` does, optionally without bundling. */
import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { AuthMode } from '../../infra/api.ts';
import { ImageBatchStack } from '../../infra/stack.ts';

export const synth = ({
  auth = 'none',
  bundle = false,
}: {
  auth?: AuthMode;
  bundle?: boolean;
} = {}) => {
  // No bundling: NodejsFunction assets become placeholders, and synth takes a second.
  const app = new App({ context: bundle ? {} : { 'aws:cdk:bundling-stacks': [] } });
  const stack = new ImageBatchStack(app, 'ImageBatch', { auth });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const assembly = app.synth();
  return { app, stack, assembly, template: Template.fromStack(stack) };
};
