/** cdk-nag's AwsSolutions pack runs on every synth: the stack passes it, and it does bite. */
import { Stack, Validations } from 'aws-cdk-lib';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { synth, testApp } from './synth.ts';

describe('cdk-nag (AwsSolutions)', () => {
  it('passes the stack in every auth mode, each accepted finding acknowledged with a reason', () => {
    for (const auth of ['none', 'apiKey', 'iam'] as const)
      expect(() => synth({ auth })).not.toThrow();
  });

  it('fails a synth with an unacknowledged finding', () => {
    const app = testApp();
    const stack = new Stack(app, 'Careless');
    new Bucket(stack, 'Open'); // no TLS enforcement, no access logs
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).toThrow();
  });
});
