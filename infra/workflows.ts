/**
 * The one ASL file, deployed twice: EXPRESS for synchronous requests (StartSyncExecution) and
 * its STANDARD twin for asynchronous ones (StartExecution, then DescribeExecution, which
 * Express does not offer). Both log every event with its data, and trace with X-Ray, so each
 * run can be inspected in the console.
 */
import { ArnFormat, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  DefinitionBody,
  LogLevel,
  StateMachine,
  StateMachineType,
} from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { DEFINITION_FILE, type DefinitionSubstitutions } from '../statemachine/definition.ts';

export class ImageWorkflows extends Construct {
  readonly sync: StateMachine;
  readonly async: StateMachine;
  /** Physical names, known at synth time (the machines' own attributes are tokens). */
  readonly names = new Map<StateMachine, string>();

  constructor(scope: Construct, id: string, props: { analyze: IFunction }) {
    super(scope, id);
    const substitutions: DefinitionSubstitutions = {
      AnalyzeFunctionArn: props.analyze.functionArn,
    };
    const machine = (name: string, type: StateMachineType) => {
      const logs = new LogGroup(this, `${name}Logs`, {
        logGroupName: `/aws/vendedlogs/states/${name}-${this.node.addr.slice(0, 8)}`,
        retention: RetentionDays.ONE_MONTH,
        removalPolicy: RemovalPolicy.DESTROY,
      });
      // Named for the people reading the console: ImageBatch-Sync, ImageBatch-Async.
      const stateMachineName = `${Stack.of(this).stackName}-${name}`;
      const sm = new StateMachine(this, name, {
        stateMachineName,
        stateMachineType: type,
        definitionBody: DefinitionBody.fromFile(DEFINITION_FILE),
        definitionSubstitutions: { ...substitutions },
        logs: { destination: logs, level: LogLevel.ALL, includeExecutionData: true },
        tracingEnabled: true,
      });
      // A definition loaded from a file grants nothing by itself.
      props.analyze.grantInvoke(sm);
      this.names.set(sm, stateMachineName);
      return sm;
    };
    this.sync = machine('Sync', StateMachineType.EXPRESS);
    this.async = machine('Async', StateMachineType.STANDARD);
  }

  /** The ARN pattern of a machine's executions, for DescribeExecution grants. */
  executionsOf(machine: StateMachine): string {
    return Stack.of(this).formatArn({
      service: 'states',
      resource: 'execution',
      resourceName: `${this.names.get(machine)}:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
  }
}
