/** cdk-nag's AwsSolutions pack runs on every synth: the stack passes it, and it does bite. */
import { Stack, Validations } from 'aws-cdk-lib';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import type { AuthMode } from '../../infra/api.ts';
import { synth, testApp } from './synth.ts';

/** The findings acknowledged in a construct tree: rule id (without the plugin's prefix) →
 * reason, as CDK records them in construct metadata. */
const acknowledged = (root: IConstruct) =>
  new Map(
    root.node
      .findAll()
      .flatMap((c) => c.node.metadata)
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) => Object.entries(m.data as Record<string, string>))
      .map(([id, reason]) => [id.replace(/^.*::/, ''), reason]),
  );

const MODES: { auth: AuthMode; apiKeyPurpose?: string }[] = [
  { auth: 'iam' },
  { auth: 'none' },
  { auth: 'apiKey', apiKeyPurpose: 'metering one client' },
];

describe('cdk-nag (AwsSolutions)', () => {
  it('passes the stack in every auth mode, each accepted finding acknowledged with a reason', () => {
    for (const mode of MODES) expect(() => synth(mode)).not.toThrow();
    expect(() =>
      synth({ alarmTopicArn: 'arn:aws:sns:eu-west-1:123456789012:ops-alarms' }),
    ).not.toThrow();
  });

  it('excuses no missing authorization in the default (IAM) deploy, and names the choice otherwise', () => {
    expect(acknowledged(synth().stack).has('AwsSolutions-APIG4')).toBe(false);
    expect(acknowledged(synth(MODES[1]).stack).get('AwsSolutions-APIG4')).toMatch(/auth=none/);
    expect(acknowledged(synth(MODES[2]).stack).get('AwsSolutions-APIG4')).toMatch(
      /not authorization/,
    );
  });

  it('claims in its reasons nothing the stack does not do', () => {
    const reasons = [...acknowledged(synth(MODES[2]).stack).values()].join('\n');
    // S1: the workflow history does not show S3 accesses; APIG3: throttling and usage plans
    // are best effort and bound cost, not abuse.
    expect(reasons).not.toMatch(/visible in the workflow history/);
    expect(reasons).not.toMatch(/bound abuse/);
    expect(reasons).toMatch(/best-effort/);
  });

  it('fails a synth with an unacknowledged finding', () => {
    const app = testApp();
    const stack = new Stack(app, 'Careless');
    new Bucket(stack, 'Open'); // no TLS enforcement, no access logs
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).toThrow();
  });
});
