/**
 * The one ASL file, deployed twice: EXPRESS for synchronous requests (StartSyncExecution) and
 * its STANDARD twin for asynchronous ones (StartExecution, then DescribeExecution, which
 * Express does not offer). Both log every event with its data, and trace with X-Ray, so each
 * run can be inspected in the console.
 *
 * No physical names: CloudFormation names the machines after the stack (which carries the
 * stage), so a replacement never collides with the machine it replaces and two stages share
 * an account. Another workflow is one more `this.machine(…)` call; `all` is what the
 * monitoring iterates over.
 */
import { readFileSync } from 'node:fs';
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

export interface WorkflowProps {
  /** How it is written in the console and on the dashboard. */
  label: string;
  type: StateMachineType;
  definitionFile: string;
  substitutions: Record<string, string>;
  /** The functions its tasks invoke: a definition loaded from a file grants nothing. */
  invokes: IFunction[];
}

/** The largest MaxConcurrency of the Map states in an ASL file (0 when unbounded). */
export const mapConcurrencyOf = (definitionFile: string): number => {
  const found: number[] = [];
  const visit = (node: unknown) => {
    if (typeof node !== 'object' || node === null) return;
    const state = node as { Type?: unknown; MaxConcurrency?: unknown };
    if (state.Type === 'Map') found.push(Number(state.MaxConcurrency ?? 0));
    for (const child of Object.values(node)) visit(child);
  };
  visit(JSON.parse(readFileSync(definitionFile, 'utf8')));
  return found.includes(0) ? 0 : Math.max(0, ...found);
};

export class ImageWorkflows extends Construct {
  readonly sync: StateMachine;
  readonly async: StateMachine;
  /** Every machine of the stack, with its label. */
  readonly all: { machine: StateMachine; label: string }[] = [];

  constructor(scope: Construct, id: string, props: { analyze: IFunction }) {
    super(scope, id);
    const substitutions: DefinitionSubstitutions = {
      AnalyzeFunctionArn: props.analyze.functionArn,
    };
    const common = {
      definitionFile: DEFINITION_FILE,
      substitutions: { ...substitutions },
      invokes: [props.analyze],
    };
    this.sync = this.machine('Sync', { ...common, label: 'sync', type: StateMachineType.EXPRESS });
    this.async = this.machine('Async', {
      ...common,
      label: 'async',
      type: StateMachineType.STANDARD,
    });
  }

  machine(id: string, props: WorkflowProps): StateMachine {
    const logs = new LogGroup(this, `${id}Logs`, {
      // Under /aws/vendedlogs/ so that Step Functions' log delivery does not grow the
      // account's CloudWatch Logs resource policy; named after the stack, hence the stage.
      logGroupName: `/aws/vendedlogs/states/${Stack.of(this).stackName}-${id}-${this.node.addr.slice(0, 8)}`,
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const machine = new StateMachine(this, id, {
      stateMachineType: props.type,
      definitionBody: DefinitionBody.fromFile(props.definitionFile),
      definitionSubstitutions: props.substitutions,
      logs: { destination: logs, level: LogLevel.ALL, includeExecutionData: true },
      tracingEnabled: true,
    });
    for (const fn of props.invokes) fn.grantInvoke(machine);
    this.all.push({ machine, label: props.label });
    return machine;
  }

  /** The ARN pattern of a machine's executions, for DescribeExecution grants. */
  executionsOf(machine: StateMachine): string {
    return Stack.of(this).formatArn({
      service: 'states',
      resource: 'execution',
      resourceName: `${machine.stateMachineName}:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
  }
}
