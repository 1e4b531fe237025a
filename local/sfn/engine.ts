/**
 * A local Step Functions service: state machines and their executions, run by
 * aws-local-stepfunctions, with the cloud's rules where they shape the design — the 256 KiB
 * payload limit, Express's five minutes, what the API refuses for Express executions — and
 * DISTRIBUTED Map states, which the library does not run (distributed-map.ts).
 *
 * This file holds the API's side: machines, starting and describing executions, Map Runs'
 * bookkeeping, and when executions are written, restored and pruned. How one execution runs is
 * in run.ts, the shapes in execution.ts, what is written to the store in persistence.ts.
 */
import { randomUUID } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { EXPRESS_MAX_DURATION_MS, STATE_PAYLOAD_BYTES } from '../../lambdas/shared/aws-limits.ts';
import { createS3Client } from '../../lambdas/shared/clients.ts';
import type { ExecutionStore } from '../store.ts';
import { childDefinition, labelOf, prepareDefinition } from './distributed-definition.ts';
import { DistributedMap } from './distributed-map.ts';
import {
  executionDoesNotExist,
  invalidArn,
  SfnApiError,
  stateMachineDoesNotExist,
  validation,
} from './errors.ts';
import type { Execution, Machine, MachineType, TaskInvoker } from './execution.ts';
import type { History } from './history.ts';
import { MapRun } from './map-run.ts';
import { CRASHED, crashedHistory, restored, STANDARD_RETENTION_MS, stored } from './persistence.ts';
import { bytes, runExecution, taskStates } from './run.ts';

const NAME = /^[A-Za-z0-9_-]{1,80}$/;

export class LocalStepFunctions {
  readonly machines = new Map<string, Machine>();
  readonly executions = new Map<string, Execution>();
  readonly mapRuns = new Map<string, MapRun>();
  /** Map Run child executions by ARN: not listed with their parents, described like them. */
  readonly #children = new Map<string, Execution>();
  /** The machines of Map Run children (`<machine>/<label>`), not listed either. */
  readonly #childMachines = new Map<string, Machine>();
  readonly #s3: () => S3Client;
  readonly region: string;
  readonly accountId: string;
  readonly #invokeTask: TaskInvoker;
  readonly #retainExpress: number;
  readonly #retentionMs: number;
  readonly #store: ExecutionStore | undefined;
  #prunedAt = 0;
  readonly #expressMaxMs: number;
  readonly payloadLimitBytes: number;

  constructor(options: {
    region: string;
    accountId: string;
    invokeTask: TaskInvoker;
    /** Finished Express executions kept for the view, newest first. AWS keeps none (they
     * cannot be described); Standard ones stay for `standardRetentionMs`, whatever their number,
     * because a client may still poll them. */
    retainExpressExecutions?: number;
    /** How long a stopped Standard execution stays: AWS's 90 days. */
    standardRetentionMs?: number;
    /** Where executions survive restarts; without one they live in memory only. */
    store?: ExecutionStore;
    /** Express's five-minute cap; tests shorten it. */
    expressMaxMs?: number;
    /** The 256 KiB state payload limit. Only the claim-check benchmark lifts it, to measure
     * what carrying images inline would cost if Step Functions allowed it. */
    payloadLimitBytes?: number;
    /** The S3 client ItemReader and ResultWriter use; by default the SDK's, configured by the
     * environment like the Lambdas' (AWS_ENDPOINT_URL_S3 locally). */
    s3?: S3Client;
  }) {
    this.region = options.region;
    this.accountId = options.accountId;
    this.#invokeTask = options.invokeTask;
    this.#retainExpress = options.retainExpressExecutions ?? 1000;
    this.#retentionMs = options.standardRetentionMs ?? STANDARD_RETENTION_MS;
    this.#store = options.store;
    this.#expressMaxMs = options.expressMaxMs ?? EXPRESS_MAX_DURATION_MS;
    this.payloadLimitBytes = options.payloadLimitBytes ?? STATE_PAYLOAD_BYTES;
    let s3 = options.s3;
    this.#s3 = () => {
      s3 ??= createS3Client();
      return s3;
    };
  }

  createStateMachine(spec: { name: string; type: MachineType; definition: string }): Machine {
    const parsed = JSON.parse(spec.definition) as StateMachineDefinition;
    // The definition is validated here exactly as the library validates it before running.
    new StateMachine(parsed);
    const machine = this.#machine(
      spec.name,
      `arn:aws:states:${this.region}:${this.accountId}:stateMachine:${spec.name}`,
      spec.type,
      parsed,
      `arn:aws:iam::${this.accountId}:role/${spec.name}-role`,
    );
    machine.definition = spec.definition;
    this.machines.set(machine.arn, machine);
    return machine;
  }

  /** A runnable machine; each DISTRIBUTED Map's processor becomes a machine of its own, named
   * `<machine>/<label>` as AWS names the Map Run's child executions' state machine. */
  #machine(
    name: string,
    arn: string,
    type: MachineType,
    definition: StateMachineDefinition,
    roleArn: string,
  ): Machine {
    const { runnable, maps } = prepareDefinition(definition);
    const distributed: Machine['distributed'] = new Map();
    for (const [stateName, state] of maps) {
      const label = labelOf(stateName, state);
      const childType = state.ItemProcessor.ProcessorConfig.ExecutionType ?? 'STANDARD';
      const child = this.#machine(
        `${name}/${label}`,
        `${arn}/${label}`,
        childType,
        childDefinition(state),
        roleArn,
      );
      child.label = label;
      this.#childMachines.set(child.arn, child);
      distributed.set(stateName, { map: new DistributedMap(state), label, child });
    }
    const tasks = taskStates(runnable);
    for (const stateName of distributed.keys()) tasks.delete(stateName);
    return {
      name,
      arn,
      type,
      definition: JSON.stringify(definition),
      roleArn,
      creationDate: new Date(),
      runner: new StateMachine(runnable, { validationOptions: { noValidate: true } }),
      tasks,
      distributed,
    };
  }

  machine(arn: string): Machine {
    const machine = this.machines.get(arn);
    if (!machine) throw stateMachineDoesNotExist(arn);
    return machine;
  }

  start(stateMachineArn: string, input = '{}', name: string = randomUUID()): Execution {
    const machine = this.machine(stateMachineArn);
    if (!NAME.test(name)) throw new SfnApiError('InvalidName', `Invalid Name: '${name}'`);
    const execution = this.#start(machine, input, name);
    this.executions.set(execution.executionArn, execution);
    this.#persist(execution);
    this.#prune();
    return execution;
  }

  /**
   * Written when it starts and when it stops. Express runs are written only while they run
   * (so that a crash can clean up after them): AWS keeps no Express execution to describe.
   */
  #persist(execution: Execution) {
    const store = this.#store;
    if (!store) return;
    void store.save(stored(execution));
    void execution.settled.then(() =>
      execution.type === 'EXPRESS'
        ? store.remove(execution.executionArn)
        : store.save(stored(execution, true)),
    );
  }

  /**
   * Reads back what the store holds. A run still RUNNING there was cut short by a crash: it
   * ends FAILED with a cause that says so, and `abandoned` is told of its input (to remove
   * what it staged). Standard runs past their retention are dropped.
   */
  async restore(abandoned: (input: string) => Promise<void> = async () => undefined) {
    const store = this.#store;
    if (!store) return;
    const now = Date.now();
    for (const record of await store.load()) {
      if (this.executions.has(record.executionArn)) continue;
      if (record.status === 'RUNNING') {
        await abandoned(record.input).catch((error: Error) =>
          console.error(`local state: could not clean up ${record.executionArn}: ${error.message}`),
        );
        if (record.type === 'EXPRESS') {
          await store.remove(record.executionArn);
          continue;
        }
        Object.assign(record, {
          status: 'FAILED',
          ...CRASHED,
          stopDate: new Date(now).toISOString(),
        });
        record.events = crashedHistory(record, this.machines.get(record.stateMachineArn)?.roleArn);
        await store.save(record);
      }
      if (record.type === 'EXPRESS') continue;
      if (record.stopDate && now - Date.parse(record.stopDate) > this.#retentionMs) {
        await store.remove(record.executionArn);
        continue;
      }
      // Left on disk, but not shown, when its machine is no longer defined (renamed).
      if (this.machines.has(record.stateMachineArn)) {
        this.executions.set(record.executionArn, restored(record));
      }
    }
  }

  #start(machine: Machine, input: string, name: string): Execution {
    if (bytes(input) > this.payloadLimitBytes) {
      throw validation(
        `Value at 'input' failed to satisfy constraint: Member must have length less than or equal to ${this.payloadLimitBytes}`,
      );
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(input);
    } catch {
      throw new SfnApiError(
        'InvalidExecutionInput',
        'Invalid State Machine Execution Input: not valid JSON',
      );
    }
    const executionArn =
      machine.type === 'EXPRESS'
        ? `arn:aws:states:${this.region}:${this.accountId}:express:${machine.name}:${name}:${randomUUID()}`
        : `arn:aws:states:${this.region}:${this.accountId}:execution:${machine.name}:${name}`;
    if (this.executions.has(executionArn)) {
      throw new SfnApiError(
        'ExecutionAlreadyExists',
        `Execution Already Exists: '${executionArn}'`,
      );
    }
    return runExecution(
      {
        region: this.region,
        invokeTask: this.#invokeTask,
        payloadLimitBytes: this.payloadLimitBytes,
        expressMaxMs: this.#expressMaxMs,
        mapRunHost: (label, child, parent, history, onStop) =>
          this.#mapRunHost(machine, label, child, parent, history, onStop),
      },
      machine,
      executionArn,
      name,
      input,
      parsed,
    );
  }

  /** DescribeExecution and GetExecutionHistory: like AWS, only for STANDARD executions and
   * for the child executions of a Map Run, Express ones included. */
  describable(executionArn: string): Execution {
    const child = this.#children.get(executionArn);
    if (child) return child;
    if (executionArn.includes(':express:')) {
      throw invalidArn(executionArn, 'Resource type not valid in this context: express');
    }
    const execution = this.executions.get(executionArn);
    if (!execution) throw executionDoesNotExist(executionArn);
    return execution;
  }

  /** Every execution, Express included, for the local view (AWS shows Express runs from logs). */
  all(): Execution[] {
    return [...this.executions.values()].sort(
      (a, b) => b.startDate.getTime() - a.startDate.getTime(),
    );
  }

  /** The machine an execution ran, a Map Run's child machine included. */
  machineOf(execution: Execution): Machine {
    return (
      this.#childMachines.get(execution.stateMachineArn) ?? this.machine(execution.stateMachineArn)
    );
  }

  mapRun(mapRunArn: string): MapRun {
    const mapRun = this.mapRuns.get(mapRunArn);
    if (!mapRun) {
      throw new SfnApiError('ResourceNotFound', `Resource not found: '${mapRunArn}'`);
    }
    return mapRun;
  }

  /** A long-running local server keeps what a client could still ask for: Standard runs for
   * their retention period, and of Express runs, which nobody can describe, the newest. A Map
   * Run and its children go with the execution that started them. */
  #prune() {
    const now = Date.now();
    let express = 0;
    for (const e of this.executions.values()) if (e.type === 'EXPRESS') express += 1;
    // Standard runs expire by age, which is checked at most once a minute.
    const checkAge = now - this.#prunedAt > 60_000;
    if (express <= this.#retainExpress && !checkAge) return;
    if (checkAge) this.#prunedAt = now;
    // Insertion order is start order: the oldest come first.
    for (const [arn, execution] of this.executions) {
      if (execution.status === 'RUNNING') continue;
      if (execution.type === 'EXPRESS') {
        if (express <= this.#retainExpress) continue;
        express -= 1;
      } else if (!checkAge || now - (execution.stopDate?.getTime() ?? now) <= this.#retentionMs) {
        continue;
      } else {
        void this.#store?.remove(arn);
      }
      this.#evict(arn);
    }
  }

  #evict(arn: string) {
    this.executions.delete(arn);
    for (const mapRun of this.mapRuns.values()) {
      if (mapRun.executionArn !== arn) continue;
      for (const childArn of mapRun.children.keys()) this.#children.delete(childArn);
      this.mapRuns.delete(mapRun.mapRunArn);
    }
  }

  /** Resolves once every execution's record is on disk. */
  flush(): Promise<void> {
    return this.#store?.flush() ?? Promise.resolve();
  }

  /** What a DISTRIBUTED Map state of one execution needs to run its Map Run. */
  #mapRunHost(
    machine: Machine,
    label: string,
    child: Machine,
    parent: { executionArn: string; context: Record<string, unknown>; input: unknown },
    history: History,
    onStop: (abort: () => void) => void,
  ) {
    return {
      s3: this.#s3,
      context: parent.context,
      executionInput: parent.input,
      createMapRun: (settings: {
        maxConcurrency: number;
        toleratedFailurePercentage: number;
        toleratedFailureCount: number;
      }) => {
        const mapRun = new MapRun({
          ...settings,
          mapRunArn: `arn:aws:states:${this.region}:${this.accountId}:mapRun:${machine.name}/${label}:${randomUUID()}`,
          executionArn: parent.executionArn,
          stateMachineArn: child.arn,
        });
        this.mapRuns.set(mapRun.mapRunArn, mapRun);
        return mapRun;
      },
      startChild: (mapRun: MapRun, input: unknown) => {
        const execution = this.#start(child, JSON.stringify(input ?? null), randomUUID());
        execution.mapRunArn = mapRun.mapRunArn;
        mapRun.children.set(execution.executionArn, execution);
        this.#children.set(execution.executionArn, execution);
        return execution;
      },
      record: (type: string, details: Record<string, unknown>) => history.add(type, details),
      onParentStop: onStop,
    };
  }
}
