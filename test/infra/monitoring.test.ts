/**
 * The dashboard and the alarms: each alarm watches a metric something in the stack really
 * writes (AWS's own, or ours under the namespace and service names the functions are given),
 * and every alarm reaches the SNS topic.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { DIMENSION, METRIC } from '../../lambdas/shared/metrics.ts';
import { logicalId, synth } from './synth.ts';

const { template, stack } = synth();
const alarms = () => Object.values(template.findResources('AWS::CloudWatch::Alarm'));
/** Alarms whose metric (or one of the metrics of its expression) has this name. */
const alarmsOn = (metricName: string) =>
  alarms().filter((a) => JSON.stringify(a.Properties).includes(`"MetricName":"${metricName}"`));
const envOf = (fn: typeof stack.functions.analyze) =>
  template.findResources('AWS::Lambda::Function')[logicalId(fn)]?.Properties.Environment
    .Variables as Record<string, string>;

describe('the alarms', () => {
  it('fire on any workflow’s failures and timeouts', () => {
    for (const { machine } of stack.workflows.all) {
      const on = alarmsOn('ExecutionsFailed').filter((a) =>
        JSON.stringify(a.Properties).includes(logicalId(machine)),
      );
      expect(on).toHaveLength(1);
      expect(JSON.stringify(on[0])).toContain('"MetricName":"ExecutionsTimedOut"');
    }
  });

  it('fire on 5xx answers of the API stage', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: '5XXError',
      Namespace: 'AWS/ApiGateway',
      Dimensions: Match.arrayWith([{ Name: 'Stage', Value: Match.anyValue() }]),
      Statistic: 'Sum',
      Threshold: 1,
    });
  });

  it('fire on throttles of either function', () => {
    const [throttles] = alarmsOn('Throttles');
    for (const fn of [stack.functions.analyze, stack.functions.ingest])
      expect(JSON.stringify(throttles)).toContain(logicalId(fn));
  });

  it('fire on the failure paths that have no dead-letter queue', () => {
    // An analysis that crashes or times out becomes a record through the Map's Catch.
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Errors',
      Namespace: 'AWS/Lambda',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId(stack.functions.analyze) } }],
    });
    // What the functions count themselves, under the namespace and services they are given.
    const [platform] = alarmsOn(METRIC.platformFailures);
    const text = JSON.stringify(platform);
    for (const fn of [stack.functions.analyze, stack.functions.ingest]) {
      const env = envOf(fn);
      expect(text).toContain(`"Namespace":"${env.POWERTOOLS_METRICS_NAMESPACE}"`);
      expect(text).toContain(`{"Name":"service","Value":"${env.POWERTOOLS_SERVICE_NAME}"}`);
    }
  });

  it('warn before the analysis reaches its reserved concurrency', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ConcurrentExecutions',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId(stack.functions.analyze) } }],
      Statistic: 'Maximum',
      Threshold: 16, // 80 % of 20
    });
  });

  it('all go to the topic the stack creates, back to OK included, and none fire on missing data', () => {
    const topic = logicalId(stack.monitoring.topic as never);
    template.resourceCountIs('AWS::SNS::Topic', 1);
    expect(alarms().length).toBeGreaterThanOrEqual(7);
    for (const a of alarms()) {
      expect(a.Properties.AlarmActions).toEqual([{ Ref: topic }]);
      expect(a.Properties.OKActions).toEqual([{ Ref: topic }]);
      expect(a.Properties.TreatMissingData).toBe('notBreaching');
    }
    template.hasOutput('AlarmTopicArn', { Value: { Ref: topic } });
  });

  it('go to the topic given by -c alarmTopicArn, and then no topic is created', () => {
    const arn = 'arn:aws:sns:eu-west-1:123456789012:ops-alarms';
    const given = synth({ alarmTopicArn: arn }).template;
    given.resourceCountIs('AWS::SNS::Topic', 0);
    for (const a of Object.values(given.findResources('AWS::CloudWatch::Alarm')))
      expect(a.Properties.AlarmActions).toEqual([arn]);
  });
});

describe('the dashboard', () => {
  const body = JSON.stringify(
    Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0]?.Properties
      .DashboardBody,
  );

  it('shows requests, latency percentiles, images per minute and failures by code', () => {
    expect(body).toContain('\\"Count\\"');
    expect(body).toContain('\\"Latency\\"');
    expect(body).toMatch(/p50.*p99/);
    expect(body).toContain(`\\"${METRIC.imagesAnalyzed}\\"`);
    expect(body).toContain('\\"period\\":60');
    expect(body).toContain(
      `SEARCH('{\\\\\\"${envOf(stack.functions.analyze).POWERTOOLS_METRICS_NAMESPACE}\\\\\\",${DIMENSION.errorCode},service}`,
    );
  });

  it('shows workflow failures and timeouts, throttles and concurrency, and every metric the functions write', () => {
    for (const name of [
      'ExecutionsFailed',
      'ExecutionsTimedOut',
      'Throttles',
      'ConcurrentExecutions',
    ])
      expect(body).toContain(`\\"${name}\\"`);
    for (const name of Object.values(METRIC)) expect(body).toContain(name);
    template.hasOutput('DashboardUrl', Match.anyValue());
  });
});
