/** Synthesizes the stack the way `npx cdk synth` does, optionally without bundling. */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { App, type AppProps, type CfnElement, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { afterAll } from 'vitest';
import { DEFAULT_STAGE, stackNameFor } from '../../infra/settings.ts';
import { ImageBatchStack, type ImageBatchStackProps } from '../../infra/stack.ts';

// Without an outdir, every App writes its cloud assembly (~23 MB with bundling) to a new
// cdk.out* folder in the temp directory and nobody removes it. Each test file that synthesises
// keeps its assemblies until its last test (tests read assembly.directory), then drops them.
const outdirs: string[] = [];
afterAll(() => {
  for (const dir of outdirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** An App whose cloud assembly goes to a temporary folder removed after the test file. */
export const testApp = (props: AppProps = {}) => {
  const outdir = mkdtempSync(path.join(os.tmpdir(), 'cdk.out-'));
  outdirs.push(outdir);
  return new App({ ...props, outdir });
};

export const synth = ({
  bundle = false,
  app = testApp({ context: bundle ? {} : { 'aws:cdk:bundling-stacks': [] } }),
  ...props
}: ImageBatchStackProps & { bundle?: boolean; app?: App } = {}) => {
  // No bundling: NodejsFunction assets become placeholders, and synth takes a second.
  const stack = new ImageBatchStack(app, stackNameFor(props.stage ?? DEFAULT_STAGE), props);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const assembly = app.synth();
  return { app, stack, assembly, template: Template.fromStack(stack) };
};

/** A construct's logical ID in its stack's template (that of its CloudFormation resource). */
export const logicalId = (construct: IConstruct) =>
  Stack.of(construct).getLogicalId(construct.node.defaultChild as CfnElement);
