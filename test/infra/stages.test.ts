/**
 * `-c stage=<name>`: names derive from the stage, and nothing has a fixed physical name that
 * a replacement or a second stage in the same account would collide with.
 */
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { parseStage, stackNameFor } from '../../infra/settings.ts';
import { ImageBatchStack } from '../../infra/stack.ts';
import { synth, testApp } from './synth.ts';

/** Every explicit account-wide physical name in a template, as `Type.Property=value`
 * (an inline policy's name is scoped to its role, so it does not count). */
const physicalNames = (template: Template) =>
  Object.values(
    template.toJSON().Resources as Record<string, { Type: string; Properties?: object }>,
  )
    .filter(({ Type }) => Type !== 'AWS::IAM::Policy')
    .flatMap(({ Type, Properties = {} }) =>
      Object.entries(Properties)
        .filter(
          ([key]) =>
            /Name$/.test(key) && !/^(Stage|Metric|Comparison|Service|Display)Name$/.test(key),
        )
        .filter(([, value]) => typeof value === 'string')
        .map(([key, value]) => `${Type}.${key}=${value}`),
    );

describe('stages', () => {
  it('name the stack, the API stage and the metrics namespace', () => {
    const { stack, template } = synth({ stage: 'qa' });
    expect(stack.stackName).toBe('ImageBatch-qa');
    template.hasResourceProperties('AWS::ApiGateway::Stage', { StageName: 'qa' });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: { POWERTOOLS_METRICS_NAMESPACE: 'ImageBatch/qa' },
      },
    });
  });

  it('leave the machines, functions, bucket, topic and dashboard unnamed, for CloudFormation to name', () => {
    const { template } = synth();
    const names = physicalNames(template);
    for (const property of [
      'AWS::StepFunctions::StateMachine.StateMachineName',
      'AWS::Lambda::Function.FunctionName',
      'AWS::S3::Bucket.BucketName',
      'AWS::SNS::Topic.TopicName',
      'AWS::CloudWatch::Dashboard.DashboardName',
    ])
      expect(names.filter((n) => n.startsWith(`${property}=`))).toEqual([]);
    // What is named carries the stack's name, hence the stage.
    for (const name of names) expect(name).toContain('ImageBatch-dev');
  });

  it('live side by side in one account', () => {
    const app = testApp({ context: { 'aws:cdk:bundling-stacks': [] } });
    const [dev, prod] = ['dev', 'prod'].map(
      (stage) => new ImageBatchStack(app, stackNameFor(stage), { stage }),
    );
    app.synth();
    const devNames = physicalNames(Template.fromStack(dev as ImageBatchStack));
    const prodNames = new Set(physicalNames(Template.fromStack(prod as ImageBatchStack)));
    expect(devNames.length).toBeGreaterThan(0);
    expect(devNames.filter((n) => prodNames.has(n))).toEqual([]);
  });

  it('are lower-case names that fit in every derived name', () => {
    expect(parseStage(undefined)).toBe('dev');
    expect(parseStage('prod-eu')).toBe('prod-eu');
    for (const bad of ['Prod', 'prod_eu', '1st', 'a'.repeat(21), ''])
      expect(() => parseStage(bad)).toThrow(/context "stage"/);
  });
});
