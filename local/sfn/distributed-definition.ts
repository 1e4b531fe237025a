/**
 * DISTRIBUTED Map states in a definition, which aws-local-stepfunctions does not run: each one
 * is rewritten into a Task state the engine handles (distributed-map.ts), keeping the Map's
 * InputPath, ResultSelector, ResultPath, OutputPath, Retry and Catch, which the library
 * applies around any Task exactly as AWS applies them around a Map Run; its ItemProcessor
 * becomes the definition of the child executions.
 * https://docs.aws.amazon.com/step-functions/latest/dg/state-map-distributed.html
 */
import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import { checkItemReader, type ItemReaderDefinition } from './item-reader.ts';
import { checkResultWriter, type ResultWriterDefinition } from './result-writer.ts';

type Json = Record<string, unknown>;

export interface DistributedMapState {
  Type: 'Map';
  Label?: string;
  ItemProcessor: StateMachineDefinition & {
    ProcessorConfig: { Mode: 'DISTRIBUTED'; ExecutionType?: 'STANDARD' | 'EXPRESS' };
  };
  ItemReader?: ItemReaderDefinition;
  ItemsPath?: string;
  ItemSelector?: Json;
  Parameters?: Json;
  ItemBatcher?: {
    MaxItemsPerBatch?: number;
    MaxItemsPerBatchPath?: string;
    MaxInputBytesPerBatch?: number;
    MaxInputBytesPerBatchPath?: string;
    BatchInput?: unknown;
  };
  MaxConcurrency?: number;
  MaxConcurrencyPath?: string;
  ToleratedFailurePercentage?: number;
  ToleratedFailurePercentagePath?: string;
  ToleratedFailureCount?: number;
  ToleratedFailureCountPath?: string;
  ResultWriter?: ResultWriterDefinition;
}

/** A Map Run can take longer than the library's 60 s default Task timeout; this keeps the
 * rewritten Task waiting (about 23 days, inside what setTimeout can count). */
const MAP_RUN_TIMEOUT_SECONDS = 2_000_000;
const LABEL = /^[A-Za-z0-9_-]{1,40}$/;
/** The fields a Task applies around its work exactly as a Map applies them around its run. */
const WRAPPING_FIELDS = [
  'Comment',
  'InputPath',
  'ResultSelector',
  'ResultPath',
  'OutputPath',
  'Retry',
  'Catch',
  'Next',
  'End',
] as const;

const isDistributed = (state: { Type: string; ItemProcessor?: unknown }) =>
  state.Type === 'Map' &&
  (state.ItemProcessor as { ProcessorConfig?: { Mode?: string } } | undefined)?.ProcessorConfig
    ?.Mode === 'DISTRIBUTED';

/** The definition the library runs (DISTRIBUTED Maps as Tasks, at any depth but inside
 * another DISTRIBUTED Map, whose processor is a machine of its own) and those Maps by name. */
export const prepareDefinition = (
  definition: StateMachineDefinition,
  maps = new Map<string, DistributedMapState>(),
): { runnable: StateMachineDefinition; maps: Map<string, DistributedMapState> } => {
  const states: Json = {};
  for (const [name, state] of Object.entries(definition.States)) {
    if (isDistributed(state)) {
      if (maps.has(name)) throw new Error(`Two DISTRIBUTED Map states named '${name}'; rename one`);
      const map = state as unknown as DistributedMapState;
      checkMapState(name, map);
      maps.set(name, map);
      const task: Json = {
        Type: 'Task',
        Resource: `local:distributed-map:${name}`,
        TimeoutSeconds: MAP_RUN_TIMEOUT_SECONDS,
      };
      for (const field of WRAPPING_FIELDS)
        if (field in map) task[field] = (map as unknown as Json)[field];
      states[name] = task;
    } else if (state.Type === 'Map') {
      const key = state.ItemProcessor ? 'ItemProcessor' : 'Iterator';
      const processor = (state.ItemProcessor ?? state.Iterator) as StateMachineDefinition;
      states[name] = { ...state, [key]: prepareDefinition(processor, maps).runnable };
    } else if (state.Type === 'Parallel') {
      const branches = state.Branches.map(
        (b) => prepareDefinition(b as StateMachineDefinition, maps).runnable,
      );
      states[name] = { ...state, Branches: branches };
    } else {
      states[name] = state;
    }
  }
  return { runnable: { ...definition, States: states } as StateMachineDefinition, maps };
};

/** Refuses, when the machine is created, what the local Map Run cannot do faithfully. */
const checkMapState = (name: string, map: DistributedMapState) => {
  try {
    if (map.ItemReader) checkItemReader(map.ItemReader);
    if (map.ResultWriter) checkResultWriter(map.ResultWriter);
  } catch (error) {
    throw new Error(`Map state '${name}': ${(error as Error).message}`);
  }
};

/** The ItemProcessor as the definition of the child executions. */
export const childDefinition = (map: DistributedMapState): StateMachineDefinition => {
  const { ProcessorConfig: _config, ...definition } = map.ItemProcessor;
  return definition as StateMachineDefinition;
};

/** The Map Run's label, in its ARN and its children's. AWS generates one when the state has
 * no Label; locally it is the state name (its letters, digits, - and _), easier to read. */
export const labelOf = (name: string, map: DistributedMapState) =>
  map.Label ??
  (LABEL.test(name) ? name : name.replace(/[^A-Za-z0-9_-]/g, '').slice(0, 40) || 'Map');
