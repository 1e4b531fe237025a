/**
 * The Step Functions API operations over the local engine, in the AWS JSON 1.0 shapes the
 * SDK and the AWS CLI expect (timestamps as epoch seconds, errors as `__type`).
 */
import type { LocalStepFunctions } from './engine.ts';
import { invalidArn, SfnApiError } from './errors.ts';
import type { Execution } from './execution.ts';

type Body = Record<string, unknown>;
type Operation = (sfn: LocalStepFunctions, body: Body) => Promise<object> | object;

const str = (body: Body, key: string): string => {
  const value = body[key];
  if (typeof value !== 'string' || value === '') {
    throw new SfnApiError(
      'ValidationException',
      `1 validation error detected: Value at '${key}' failed to satisfy constraint: Member must not be null`,
    );
  }
  return value;
};
const optional = (body: Body, key: string) =>
  typeof body[key] === 'string' ? (body[key] as string) : undefined;
const number = (body: Body, key: string, fallback: number) =>
  typeof body[key] === 'number' && (body[key] as number) > 0 ? (body[key] as number) : fallback;

const notForExpress = (type: string) => {
  if (type === 'EXPRESS') {
    throw new SfnApiError(
      'StateMachineTypeNotSupported',
      'This operation is not supported by this type of state machine',
    );
  }
};

const summary = (e: Execution) => ({
  executionArn: e.executionArn,
  stateMachineArn: e.stateMachineArn,
  name: e.name,
  status: e.status,
  startDate: e.startDate,
  stopDate: e.stopDate,
});

export const describeExecution = (e: Execution) => ({
  ...summary(e),
  input: e.input,
  inputDetails: { included: true },
  output: e.output,
  outputDetails: e.output === undefined ? undefined : { included: true },
  error: e.error,
  cause: e.cause,
  mapRunArn: e.mapRunArn,
});

/** Pages by offset; the token is opaque to callers, as in AWS. */
const page = <T>(items: T[], body: Body, key: string, fallbackSize: number) => {
  const start = Number(optional(body, 'nextToken') ?? 0) || 0;
  const size = number(body, 'maxResults', fallbackSize);
  const end = start + size;
  return {
    [key]: items.slice(start, end),
    nextToken: end < items.length ? String(end) : undefined,
  };
};

export const OPERATIONS: Record<string, Operation> = {
  StartExecution: (sfn, body) => {
    const e = sfn.start(
      str(body, 'stateMachineArn'),
      optional(body, 'input'),
      optional(body, 'name'),
    );
    return { executionArn: e.executionArn, startDate: e.startDate };
  },

  StartSyncExecution: async (sfn, body) => {
    const machine = sfn.machine(str(body, 'stateMachineArn'));
    if (machine.type !== 'EXPRESS') {
      throw new SfnApiError(
        'StateMachineTypeNotSupported',
        'This operation is not supported by this type of state machine',
      );
    }
    const e = sfn.start(machine.arn, optional(body, 'input'), optional(body, 'name'));
    await e.settled;
    return {
      ...describeExecution(e),
      billingDetails: {
        billedMemoryUsedInMB: 64,
        billedDurationInMilliseconds: Math.max(
          100,
          (e.stopDate?.getTime() ?? 0) - e.startDate.getTime(),
        ),
      },
    };
  },

  DescribeExecution: (sfn, body) => describeExecution(sfn.describable(str(body, 'executionArn'))),

  GetExecutionHistory: (sfn, body) => {
    const e = sfn.describable(str(body, 'executionArn'));
    // Express children of a Map Run can be described, but have no history, as in AWS.
    if (e.type === 'EXPRESS') {
      throw invalidArn(e.executionArn, 'Resource type not valid in this context: express');
    }
    const events = body.reverseOrder === true ? [...e.history.events].reverse() : e.history.events;
    return page(events, body, 'events', 1000);
  },

  ListExecutions: (sfn, body) => {
    // Given a mapRunArn instead, the Map Run's child executions, Express ones included.
    const mapRunArn = optional(body, 'mapRunArn');
    if (mapRunArn && body.stateMachineArn !== undefined) {
      throw new SfnApiError(
        'ValidationException',
        'Specify either a mapRunArn or a stateMachineArn, but not both',
      );
    }
    if (mapRunArn) {
      const filter = optional(body, 'statusFilter');
      const children = [...sfn.mapRun(mapRunArn).children.values()]
        .filter((e) => !filter || e.status === filter)
        .map((e) => ({ ...summary(e), mapRunArn }));
      return page(children, body, 'executions', 100);
    }
    const machine = sfn.machine(str(body, 'stateMachineArn'));
    notForExpress(machine.type);
    const filter = optional(body, 'statusFilter');
    const executions = sfn
      .all()
      .filter((e) => e.stateMachineArn === machine.arn && (!filter || e.status === filter))
      .map(summary);
    return page(executions, body, 'executions', 100);
  },

  ListStateMachines: (sfn, body) =>
    page(
      [...sfn.machines.values()].map((m) => ({
        stateMachineArn: m.arn,
        name: m.name,
        type: m.type,
        creationDate: m.creationDate,
      })),
      body,
      'stateMachines',
      100,
    ),

  DescribeStateMachine: (sfn, body) => {
    const m = sfn.machine(str(body, 'stateMachineArn'));
    return {
      stateMachineArn: m.arn,
      name: m.name,
      status: 'ACTIVE',
      definition: m.definition,
      roleArn: m.roleArn,
      type: m.type,
      creationDate: m.creationDate,
      loggingConfiguration: { level: 'ALL', includeExecutionData: true },
    };
  },

  /** For a Map Run's child, its Map Run and label with the child machine (the ItemProcessor). */
  DescribeStateMachineForExecution: (sfn, body) => {
    const e = sfn.describable(str(body, 'executionArn'));
    const m = sfn.machineOf(e);
    return {
      stateMachineArn: m.arn,
      name: m.name,
      definition: m.definition,
      roleArn: m.roleArn,
      updateDate: m.creationDate,
      loggingConfiguration: { level: 'ALL', includeExecutionData: true },
      mapRunArn: e.mapRunArn,
      label: m.label,
    };
  },

  DescribeMapRun: (sfn, body) => sfn.mapRun(str(body, 'mapRunArn')).describe(),

  ListMapRuns: (sfn, body) => {
    const executionArn = str(body, 'executionArn');
    sfn.describable(executionArn);
    const mapRuns = [...sfn.mapRuns.values()]
      .filter((m) => m.executionArn === executionArn)
      .map((m) => m.listItem());
    return page(mapRuns, body, 'mapRuns', 100);
  },

  StopExecution: (sfn, body) => {
    const e = sfn.describable(str(body, 'executionArn'));
    e.stop(optional(body, 'error'), optional(body, 'cause'));
    return { stopDate: new Date() };
  },
};

/** JSON with Dates as epoch seconds, the JSON 1.0 protocol's timestamp format. The dates are
 * converted first, rather than by a replacer, because a replacer takes JSON.stringify off its
 * fast path — and these documents carry whole execution inputs. */
export const toAwsJson = (value: unknown): string => JSON.stringify(withEpochDates(value));

const withEpochDates = (value: unknown): unknown => {
  if (value instanceof Date) return value.getTime() / 1000;
  if (Array.isArray(value)) return value.map(withEpochDates);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withEpochDates(v)]));
  }
  return value;
};

/** Requests carry at most one payload plus JSON escaping and the other fields. */
export const maxRequestBytes = (sfn: LocalStepFunctions) => 4 * sfn.payloadLimitBytes;
