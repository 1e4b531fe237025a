/** Synthesizes the stack the way `npx cdk synth` does, optionally without bundling. */
import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { DEFAULT_STAGE, stackNameFor } from '../../infra/settings.ts';
import { ImageBatchStack, type ImageBatchStackProps } from '../../infra/stack.ts';

export const synth = ({
  bundle = false,
  app = new App({ context: bundle ? {} : { 'aws:cdk:bundling-stacks': [] } }),
  ...props
}: ImageBatchStackProps & { bundle?: boolean; app?: App } = {}) => {
  // No bundling: NodejsFunction assets become placeholders, and synth takes a second.
  const stack = new ImageBatchStack(app, stackNameFor(props.stage ?? DEFAULT_STAGE), props);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const assembly = app.synth();
  return { app, stack, assembly, template: Template.fromStack(stack) };
};
