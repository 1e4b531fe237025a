/**
 * The workflows. The one ASL file for requests, deployed twice: EXPRESS for synchronous
 * requests (StartSyncExecution) and its STANDARD twin for asynchronous ones (StartExecution,
 * then DescribeExecution, which Express does not offer). And the large-batch workflow: STANDARD,
 * a Distributed Map over a manifest in S3 whose Express child workflows analyze a batch of
 * images each. All log every event with its data, and trace with X-Ray, so each run can be
 * inspected in the console.
 *
 * No physical names: CloudFormation names the machines after the stack (which carries the
 * stage), so a replacement never collides with the machine it replaces and two stages share
 * an account. Another workflow is one more `this.machine(…)` call; `all` is what the
 * monitoring iterates over.
 */
import { readFileSync } from 'node:fs';
import { ArnFormat, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Policy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import {
  DefinitionBody,
  LogLevel,
  StateMachine,
  StateMachineType,
} from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import {
  DEFINITION_FILE,
  type DefinitionSubstitutions,
  LARGE_BATCH_DEFINITION_FILE,
  placeholdersIn,
} from '../statemachine/definition.ts';
import { distributedMapLabelOf, labelledResourceName } from './asl.ts';
import { LARGE_BATCH_KEYS } from './settings.ts';

export interface WorkflowProps {
  /** How it is written in the console and on the dashboard. */
  label: string;
  type: StateMachineType;
  definitionFile: string;
  substitutions: Record<string, string>;
  /** The functions its tasks invoke: a definition loaded from a file grants nothing. */
  invokes: IFunction[];
}

/** A machine of the stack, with its label; `distributed` when it runs a Distributed Map. */
export interface DeployedWorkflow {
  machine: StateMachine;
  label: string;
  distributed: boolean;
}

export interface ImageWorkflowsProps {
  analyze: IFunction;
  /** The staging bucket: the large-batch workflow reads manifests and writes results there. */
  staging: IBucket;
}

export class ImageWorkflows extends Construct {
  readonly sync: StateMachine;
  readonly async: StateMachine;
  readonly large: StateMachine;
  /** Every machine of the stack. */
  readonly all: DeployedWorkflow[] = [];

  constructor(scope: Construct, id: string, props: ImageWorkflowsProps) {
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
    this.large = this.machine('Large', {
      label: 'large',
      type: StateMachineType.STANDARD,
      definitionFile: LARGE_BATCH_DEFINITION_FILE,
      // The Distributed Map's concurrency is no substitution (CloudFormation substitutes
      // strings, MaxConcurrency is a number): each run's input carries it, from the ingest.
      substitutions: { ...substitutions },
      invokes: [props.analyze],
    });
    this.grantDistributedMap(this.large, props.staging, LARGE_BATCH_DEFINITION_FILE);
  }

  machine(id: string, props: WorkflowProps): StateMachine {
    const logs = new LogGroup(this, `${id}Logs`, {
      // Under /aws/vendedlogs/ so that Step Functions' log delivery does not grow the
      // account's CloudWatch Logs resource policy; named after the stack, hence the stage.
      logGroupName: `/aws/vendedlogs/states/${Stack.of(this).stackName}-${id}-${this.node.addr.slice(0, 8)}`,
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // Only the placeholders the file has: CloudFormation is given nothing it would not use.
    const needed = new Set(
      placeholdersIn(readFileSync(props.definitionFile, 'utf8')).map((p) => p.slice(2, -1)),
    );
    const machine = new StateMachine(this, id, {
      stateMachineType: props.type,
      definitionBody: DefinitionBody.fromFile(props.definitionFile),
      definitionSubstitutions: Object.fromEntries(
        Object.entries(props.substitutions).filter(([key]) => needed.has(key)),
      ),
      logs: { destination: logs, level: LogLevel.ALL, includeExecutionData: true },
      tracingEnabled: true,
    });
    for (const fn of props.invokes) fn.grantInvoke(machine);
    this.all.push({
      machine,
      label: props.label,
      distributed: distributedMapLabelOf(props.definitionFile) !== undefined,
    });
    return machine;
  }

  /**
   * What a Distributed Map needs beyond its tasks, as "IAM policies for using Distributed Map
   * states" lists it (https://docs.aws.amazon.com/step-functions/latest/dg/iam-policies-eg-dist-map.html):
   * StartExecution on its own machine (each child workflow is an execution of it), Describe/
   * StopExecution on the children (`execution:<machine>/<label>:…`), GetObject on what the
   * ItemReader reads (here the manifests only), and for the ResultWriter PutObject, GetObject,
   * ListMultipartUploadParts and AbortMultipartUpload on the results prefix. And ours: the
   * children's own task, DeleteObject on the uploads.
   *
   * A separate policy, not the role's default one: the machine depends on its default policy,
   * and these statements name the machine, which would be a cycle.
   */
  private grantDistributedMap(machine: StateMachine, staging: IBucket, definitionFile: string) {
    const policy = new Policy(machine, 'DistributedMapPolicy');
    machine.role.attachInlinePolicy(policy);
    policy.addStatements(
      new PolicyStatement({
        actions: ['states:StartExecution'],
        resources: [machine.stateMachineArn],
      }),
      new PolicyStatement({
        actions: ['states:DescribeExecution', 'states:StopExecution'],
        resources: [this.childExecutionsOf(machine, definitionFile)],
      }),
      new PolicyStatement({
        actions: ['s3:GetObject'],
        resources: [
          staging.arnForObjects(`${LARGE_BATCH_KEYS.uploads}*/${LARGE_BATCH_KEYS.manifest}`),
        ],
      }),
      new PolicyStatement({
        actions: [
          's3:PutObject',
          's3:GetObject',
          's3:ListMultipartUploadParts',
          's3:AbortMultipartUpload',
        ],
        resources: [staging.arnForObjects(`${LARGE_BATCH_KEYS.results}*`)],
      }),
      // Each child batch deletes its images once read ("Discard uploads", an aws-sdk:s3 task:
      // children run with this machine's role).
      new PolicyStatement({
        actions: ['s3:DeleteObject'],
        resources: [staging.arnForObjects(`${LARGE_BATCH_KEYS.uploads}*`)],
      }),
    );
  }

  /** The ARN pattern of a machine's executions, for DescribeExecution grants. */
  executionsOf(machine: StateMachine): string {
    return this.statesArn('execution', `${machine.stateMachineName}:*`);
  }

  /** A Distributed Map's child executions: `execution:<machine>/<label>:<id>` (the AWS Service
   * Authorization Reference's "labelled execution"). */
  childExecutionsOf(machine: StateMachine, definitionFile: string): string {
    return this.statesArn(
      'execution',
      labelledResourceName(machine.stateMachineName, definitionFile),
    );
  }

  /** Map Runs of a machine's Distributed Map: `mapRun:<machine>/<label>:<id>`. */
  mapRunsOf(machine: StateMachine, definitionFile: string): string {
    return this.statesArn('mapRun', labelledResourceName(machine.stateMachineName, definitionFile));
  }

  private statesArn(resource: string, resourceName: string) {
    return Stack.of(this).formatArn({
      service: 'states',
      resource,
      resourceName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
  }
}
