/**
 * What an operator watches and is woken by: one dashboard and the alarms, all to one SNS
 * topic — the one given by `-c alarmTopicArn=…`, or one created here.
 *
 * The alarms cover every way work is lost without a dead-letter queue to find it in: a
 * workflow that fails or times out (nobody may poll an async one), a 5xx answer, a throttled
 * function (Step Functions retries, then records the image as failed), an analysis that
 * crashes or times out (the Map's Catch turns it into a record; the batch succeeds), and the
 * platform failures the functions count themselves (lambdas/shared/metrics.ts). For large
 * batches, the account's open Map Runs near their quota.
 */
import { Duration } from 'aws-cdk-lib';
import type { Stage } from 'aws-cdk-lib/aws-apigateway';
import {
  Alarm,
  AlarmStatusWidget,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  MathExpression,
  Metric,
  TextWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { type ITopic, Topic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { DIMENSION, METRIC } from '../lambdas/shared/metrics.ts';
import type { DeployedWorkflow } from './workflows.ts';

/** A function and its Powertools service name (the `service` dimension of our metrics). */
interface WatchedFunction {
  service: string;
  fn: IFunction;
}

export interface MonitoringProps {
  stage: string;
  metricsNamespace: string;
  apiStage: Stage;
  /** The analysis function: its errors are caught by the workflow and become records. */
  analyze: WatchedFunction & { reservedConcurrency: number };
  ingest: WatchedFunction;
  workflows: DeployedWorkflow[];
  alarmTopicArn?: string;
}

const FIVE_MINUTES = Duration.minutes(5);
/** AWS's suggested threshold under the account's 1,000 open Map Runs. */
const OPEN_MAP_RUNS_ALARM = 900;
/** Share of the reserved concurrency at which the analysis is close to throttling. */
const CONCURRENCY_ALARM_RATIO = 0.8;

export class Monitoring extends Construct {
  readonly topic: ITopic;
  readonly alarms: Alarm[] = [];
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const { analyze, ingest } = props;
    const functions = [analyze, ingest];
    this.topic = props.alarmTopicArn
      ? Topic.fromTopicArn(this, 'AlarmTopic', props.alarmTopicArn)
      : new Topic(this, 'AlarmTopic', {
          displayName: `Image batch (${props.stage}) alarms`,
          enforceSSL: true,
        });
    const action = new SnsAction(this.topic);
    const custom = (
      metricName: string,
      service: string,
      statistic = 'Sum',
      period = FIVE_MINUTES,
    ) =>
      new Metric({
        namespace: props.metricsNamespace,
        metricName,
        dimensionsMap: { service },
        statistic,
        period,
      });
    const sumOf = (label: string, metrics: IMetric[]) =>
      new MathExpression({
        expression: metrics.map((_, i) => `m${i}`).join(' + '),
        usingMetrics: Object.fromEntries(metrics.map((m, i) => [`m${i}`, m])),
        label,
        period: FIVE_MINUTES,
      });
    const alarm = (id: string, metric: IMetric, description: string, threshold = 1) => {
      const a = new Alarm(this, id, {
        metric,
        alarmDescription: description,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
      a.addAlarmAction(action);
      a.addOkAction(action);
      this.alarms.push(a);
      return a;
    };

    for (const { machine, label, distributed } of props.workflows) {
      alarm(
        `${capitalized(label)}WorkflowFailures`,
        sumOf(`${label} failed + timed out`, [
          machine.metricFailed({ period: FIVE_MINUTES }),
          machine.metricTimedOut({ period: FIVE_MINUTES }),
        ]),
        `The ${label} workflow failed or timed out as a whole (single bad images never do this)${distributed ? '; for a Distributed Map, also when more child batches failed than it tolerates (its Map Run failed)' : ''}.`,
      );
    }
    // Map Runs have no failure metric of their own: one that fails fails its execution, caught
    // above. AWS/States publishes account-wide Map Run counts, without dimensions; AWS suggests
    // alarming at 900 open Map Runs, before the 1,000 quota backlogs new ones
    // (https://docs.aws.amazon.com/step-functions/latest/dg/procedure-cw-metrics.html, "Map Run Metrics").
    const mapRuns = (metricName: string, label?: string) =>
      new Metric({
        namespace: 'AWS/States',
        metricName,
        statistic: 'Maximum',
        period: FIVE_MINUTES,
        label,
      });
    const hasDistributedMap = props.workflows.some((w) => w.distributed);
    if (hasDistributedMap)
      alarm(
        'OpenMapRunsNearLimit',
        mapRuns('ApproximateOpenMapRunCount'),
        'The account has 900 or more open Map Runs (large batches, and any other Distributed Map in the region): past the 1,000 quota new ones wait, backlogged.',
        OPEN_MAP_RUNS_ALARM,
      );
    alarm(
      'ApiServerErrors',
      props.apiStage.metricServerError({ period: FIVE_MINUTES, statistic: 'Sum' }),
      'The API answered 5xx: workflow failed or timed out, staging refused, or an internal error (see the ingest logs).',
    );
    alarm(
      'LambdaThrottles',
      sumOf(
        'throttles',
        functions.map(({ fn }) => fn.metricThrottles({ period: FIVE_MINUTES })),
      ),
      'A function was throttled: analyses are retried, then recorded as failed images; requests get 5xx.',
    );
    alarm(
      'AnalyzeErrors',
      analyze.fn.metricErrors({ period: FIVE_MINUTES }),
      'An analysis crashed or timed out: the workflow recorded the image as ANALYSIS_FAILED and carried on.',
    );
    alarm(
      'AnalyzeNearConcurrencyLimit',
      analyze.fn.metric('ConcurrentExecutions', {
        period: Duration.minutes(1),
        statistic: 'Maximum',
      }),
      `Analyses in flight reached ${CONCURRENCY_ALARM_RATIO * 100} % of the reserved ${analyze.reservedConcurrency}: more load will be throttled (raise -c analysisConcurrency if the account allows).`,
      Math.ceil(analyze.reservedConcurrency * CONCURRENCY_ALARM_RATIO),
    );
    alarm(
      'PlatformFailures',
      sumOf(
        'platform failures',
        functions.map(({ service }) => custom(METRIC.platformFailures, service)),
      ),
      'The service failed an image or a request through its own fault (PlatformFailures by errorCode on the dashboard).',
    );

    this.dashboard = new Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(3),
    });
    const byCode = (metricName: string, service: string) =>
      new MathExpression({
        expression: `SEARCH('{"${props.metricsNamespace}",${DIMENSION.errorCode},service} MetricName="${metricName}" service="${service}"', 'Sum', 300)`,
        usingMetrics: {},
        label: '',
        period: FIVE_MINUTES,
      });
    const graph = (title: string, left: IMetric[], right: IMetric[] = []) =>
      new GraphWidget({ title, left, right, width: 8, height: 6 });
    this.dashboard.addWidgets(
      new TextWidget({
        markdown: `# Image batch — stage \`${props.stage}\`\nRequests, images and workflows; alarms go to the SNS topic in the stack outputs. Metrics namespace \`${props.metricsNamespace}\`.`,
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      graph('Requests', [
        props.apiStage.metricCount({ statistic: 'Sum', label: 'requests' }),
        props.apiStage.metricClientError({ statistic: 'Sum', label: '4xx' }),
        props.apiStage.metricServerError({ statistic: 'Sum', label: '5xx' }),
      ]),
      graph('Latency (ms)', [
        props.apiStage.metricLatency({ statistic: 'p50', label: 'p50' }),
        props.apiStage.metricLatency({ statistic: 'p99', label: 'p99' }),
      ]),
      graph('Images per minute', [
        custom(METRIC.imagesAnalyzed, analyze.service, 'Sum', Duration.minutes(1)),
        custom(METRIC.imagesUnreadable, analyze.service, 'Sum', Duration.minutes(1)),
      ]),
    );
    this.dashboard.addWidgets(
      graph(
        'Failures by code',
        functions.flatMap(({ service }) => [
          byCode(METRIC.imagesUnreadable, service),
          byCode(METRIC.platformFailures, service),
        ]),
      ),
      graph(
        'Workflows: failed and timed out',
        props.workflows.flatMap(({ machine, label }) => [
          machine.metricFailed({ label: `${label} failed` }),
          machine.metricTimedOut({ label: `${label} timed out` }),
        ]),
        props.workflows.map(({ machine, label }) =>
          machine.metricStarted({ label: `${label} started` }),
        ),
      ),
      graph(
        'Lambda throttles and concurrency',
        functions.map(({ service, fn }) => fn.metricThrottles({ label: `${service} throttles` })),
        functions.map(({ service, fn }) =>
          fn.metric('ConcurrentExecutions', {
            statistic: 'Maximum',
            label: `${service} in flight`,
          }),
        ),
      ),
    );
    this.dashboard.addWidgets(
      graph('Analysis (ms)', [
        custom(METRIC.analysisMs, analyze.service, 'p50'),
        custom(METRIC.analysisMs, analyze.service, 'p99'),
      ]),
      graph(
        'Batches',
        [
          custom(METRIC.batchSize, ingest.service, 'Average'),
          custom(METRIC.batchSize, ingest.service, 'Maximum'),
        ],
        [custom(METRIC.stagedBytes, ingest.service, 'Sum')],
      ),
      graph(
        'Cold starts and errors',
        // Powertools writes cold starts under the service and the function's own name.
        functions.map(
          ({ service, fn }) =>
            new Metric({
              namespace: props.metricsNamespace,
              metricName: METRIC.coldStart,
              dimensionsMap: { service, function_name: fn.functionName },
              statistic: 'Sum',
              label: `${service} cold starts`,
            }),
        ),
        functions.map(({ service, fn }) => fn.metricErrors({ label: `${service} errors` })),
      ),
    );
    if (hasDistributedMap)
      this.dashboard.addWidgets(
        graph(
          'Large batches: Map Runs (account-wide)',
          [
            mapRuns('ApproximateOpenMapRunCount', 'open'),
            mapRuns('ApproximateMapRunBacklogSize', 'backlogged'),
          ],
          [mapRuns('OpenMapRunLimit', 'limit')],
        ),
      );
    this.dashboard.addWidgets(
      new AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24, height: 4 }),
    );
  }
}

const capitalized = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
