/**
 * The Map Run of a DISTRIBUTED Map state (rewritten into a Task by distributed-definition.ts),
 * as AWS runs it: read the items (ItemReader or ItemsPath), apply ItemSelector, group them
 * (ItemBatcher), start one child execution per item or batch within MaxConcurrency, fail past
 * ToleratedFailure*, and return the outputs or, with ResultWriter, export them to S3.
 * https://docs.aws.amazon.com/step-functions/latest/dg/state-map-distributed.html
 * The fields apply in the documented order: ItemReader, ItemsPath, ItemSelector, ItemBatcher,
 * then ResultWriter. https://docs.aws.amazon.com/step-functions/latest/dg/input-output-fields-dist-map.html
 * Batches as `{"BatchInput", "Items"}`: https://docs.aws.amazon.com/step-functions/latest/dg/input-output-itembatcher.html
 *
 * Payload templates and paths (ItemReader Parameters, ItemSelector, BatchInput, *Path fields)
 * are evaluated by the library itself, through tiny Pass/Map machines run with the parent's
 * context, so JSONPath and intrinsic functions behave exactly as everywhere else in the ASL.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { ExecutionError, StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { STATE_PAYLOAD_BYTES } from '../../lambdas/shared/aws-limits.ts';
import { namedError } from '../functions.ts';
import type { DistributedMapState } from './distributed-definition.ts';
import type { Execution } from './execution.ts';
import { readItems } from './item-reader.ts';
import type { MapRun } from './map-run.ts';
import { type ExecutionRecord, executionRecord, writeResults } from './result-writer.ts';

type Json = Record<string, unknown>;

/** AWS runs at most 10,000 child executions of a Map Run at once, and that many by default. */
const DISTRIBUTED_MAX_CONCURRENCY = 10_000;

/** What one Map Run needs from the engine. */
export interface MapRunHost {
  s3: () => S3Client;
  /** The parent's context object (Execution, StateMachine) and its execution input. */
  context: Json;
  executionInput: unknown;
  /** Creates and registers the Map Run record. */
  createMapRun: (settings: {
    maxConcurrency: number;
    toleratedFailurePercentage: number;
    toleratedFailureCount: number;
  }) => MapRun;
  /** Starts one child execution of the Map Run (throws as StartExecution would). */
  startChild: (mapRun: MapRun, input: unknown) => Execution;
  /** Appends an event to the parent's history. */
  record: (type: string, details: Json) => void;
  /** Called with a function that aborts this run when the parent stops. */
  onParentStop: (abort: () => void) => void;
}

interface Settings {
  reader?: Json;
  readerMaxItems?: number;
  items?: unknown;
  batchInput?: unknown;
  maxItemsPerBatch?: number;
  maxInputBytesPerBatch?: number;
  maxConcurrency?: number;
  toleratedFailurePercentage?: number;
  toleratedFailureCount?: number;
  writer?: Json;
}

interface Batch {
  input: unknown;
  items: number;
}

const bytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value ?? null), 'utf8');

export class DistributedMap {
  readonly state: DistributedMapState;
  readonly #evaluator: StateMachine;
  readonly #selector?: StateMachine;

  constructor(state: DistributedMapState) {
    this.state = state;
    const passOnly = { StartAt: 'Item', States: { Item: { Type: 'Pass', End: true } } };
    this.#evaluator = machine({
      StartAt: 'Input',
      States: {
        // The helper's input is the parent's execution input, so that $$.Execution.Input is
        // right; the Map's effective input comes in through the context.
        Input: { Type: 'Pass', InputPath: '$$.MapInput', Next: 'Evaluate' },
        Evaluate: { Type: 'Pass', Parameters: this.#templates(), End: true },
      },
    });
    const selector = state.ItemSelector ?? state.Parameters;
    if (selector) {
      this.#selector = machine({
        StartAt: 'Input',
        States: {
          Input: { Type: 'Pass', InputPath: '$$.MapInput', Next: 'Select' },
          Select: {
            Type: 'Map',
            ItemsPath: '$$.MapItems',
            ItemSelector: selector,
            ItemProcessor: passOnly,
            End: true,
          },
        },
      });
    }
  }

  /** Every payload template and path of the state, as one Parameters object. */
  #templates(): Json {
    const s = this.state;
    const t: Json = {};
    const path = (key: string, value: string | undefined) => {
      if (value !== undefined) t[`${key}.$`] = value;
    };
    if (s.ItemReader?.Parameters) t.reader = s.ItemReader.Parameters;
    path('readerMaxItems', s.ItemReader?.ReaderConfig?.MaxItemsPath);
    if (!s.ItemReader) path('items', s.ItemsPath ?? '$');
    if (s.ItemBatcher?.BatchInput !== undefined) t.batchInput = s.ItemBatcher.BatchInput;
    path('maxItemsPerBatch', s.ItemBatcher?.MaxItemsPerBatchPath);
    path('maxInputBytesPerBatch', s.ItemBatcher?.MaxInputBytesPerBatchPath);
    path('maxConcurrency', s.MaxConcurrencyPath);
    path('toleratedFailurePercentage', s.ToleratedFailurePercentagePath);
    path('toleratedFailureCount', s.ToleratedFailureCountPath);
    if (s.ResultWriter?.Parameters) t.writer = s.ResultWriter.Parameters;
    return t;
  }

  async #evaluate(helper: StateMachine, host: MapRunHost, extra: Json): Promise<unknown> {
    try {
      return await helper.run(host.executionInput as never, {
        context: { ...host.context, ...extra } as never,
      }).result;
    } catch (error) {
      // A path that points nowhere fails the state as it would in AWS (States.Runtime…).
      throw error instanceof ExecutionError ? error.cause : error;
    }
  }

  /** Runs the Map Run; resolves to the Map state's result, rejects as the state fails. */
  async run(input: unknown, host: MapRunHost): Promise<unknown> {
    const s = this.state;
    const settings = (await this.#evaluate(this.#evaluator, host, { MapInput: input })) as Settings;
    const pct = settings.toleratedFailurePercentage ?? s.ToleratedFailurePercentage;
    const count = settings.toleratedFailureCount ?? s.ToleratedFailureCount;
    const maxConcurrency = settings.maxConcurrency ?? s.MaxConcurrency ?? 0;
    const mapRun = host.createMapRun({
      maxConcurrency,
      toleratedFailurePercentage: pct ?? 0,
      toleratedFailureCount: count ?? 0,
    });
    host.record('MapRunStarted', { mapRunStartedEventDetails: { mapRunArn: mapRun.mapRunArn } });

    const fail = (error: Error): never => {
      mapRun.stop('FAILED');
      host.record('MapRunFailed', {
        mapRunFailedEventDetails: { error: error.name, cause: error.message },
      });
      throw error;
    };

    let items: unknown[];
    let batches: Batch[];
    try {
      items = await this.#items(settings, host);
      batches = this.#batches(await this.#select(items, input, host), settings);
    } catch (error) {
      return fail(error as Error);
    }
    mapRun.plan(items.length, batches.length);

    const tooManyFailures = (failed: number) => {
      if (pct === undefined && count === undefined) return failed > 0;
      return (
        (count !== undefined && failed > count) ||
        (pct !== undefined && failed * 100 > pct * items.length)
      );
    };

    const children: (Execution | undefined)[] = new Array(batches.length);
    let next = 0;
    let failedItems = 0;
    let stopping: 'FAILED' | 'ABORTED' | undefined;
    let startError: Error | undefined;
    const stopChildren = (why: string) => {
      for (const child of children) child?.stop('States.Aborted', why);
    };
    host.onParentStop(() => {
      if (mapRun.status !== 'RUNNING') return;
      stopping = 'ABORTED';
      stopChildren('The parent execution stopped');
      mapRun.stop('ABORTED');
      host.record('MapRunAborted', {});
    });

    const worker = async () => {
      while (!stopping && next < batches.length) {
        const i = next++;
        const batch = batches[i] as Batch;
        let child: Execution;
        try {
          child = host.startChild(mapRun, batch.input);
        } catch (error) {
          // Only an input over 256 KiB gets here (one item too big for any batch).
          startError = namedError('States.DataLimitExceeded', (error as Error).message);
          stopping = 'FAILED';
          stopChildren('The Map Run failed');
          return;
        }
        children[i] = child;
        mapRun.started(batch.items);
        await child.settled;
        const status = child.status === 'RUNNING' ? 'ABORTED' : child.status;
        mapRun.finished(batch.items, status);
        // Children stopped because the run is stopping do not count against the threshold.
        if (status === 'SUCCEEDED' || stopping) continue;
        failedItems += batch.items;
        if (tooManyFailures(failedItems)) {
          stopping = 'FAILED';
          stopChildren('The Map Run exceeded its tolerated failure threshold');
        }
      }
    };
    const limit = maxConcurrency || DISTRIBUTED_MAX_CONCURRENCY;
    await Promise.all(Array.from({ length: Math.min(limit, batches.length) }, worker));
    if (stopping === 'ABORTED') throw namedError('States.Aborted', 'The parent execution stopped');

    const started = children.filter((c): c is Execution => c !== undefined);
    const writeTo = settings.writer;
    const write = async () => {
      if (!writeTo) return undefined;
      const records: Record<'SUCCEEDED' | 'FAILED' | 'PENDING', ExecutionRecord[]> = {
        SUCCEEDED: [],
        FAILED: [],
        PENDING: [],
      };
      for (const c of started) {
        records[c.status === 'SUCCEEDED' ? 'SUCCEEDED' : 'FAILED'].push(executionRecord(c));
      }
      const details = await writeResults(host.s3(), writeTo, mapRun, records);
      mapRun.itemCounts.resultsWritten = items.length - mapRun.itemCounts.pending;
      mapRun.executionCounts.resultsWritten = started.length;
      return details;
    };

    if (stopping === 'FAILED') {
      await write().catch(() => undefined); // the threshold error is the one to report
      return fail(
        startError ??
          namedError(
            'States.ExceedToleratedFailureThreshold',
            `The Map Run failed: ${failedItems} of ${items.length} items failed, more than it tolerates`,
          ),
      );
    }
    let details: { Bucket: string; Key: string } | undefined;
    try {
      details = await write();
    } catch (error) {
      return fail(error as Error);
    }
    mapRun.stop('SUCCEEDED');
    host.record('MapRunSucceeded', {});
    if (details) return { MapRunArn: mapRun.mapRunArn, ResultWriterDetails: details };
    // Without ResultWriter the outputs come back in item order; a tolerated failure is its
    // execution record, as AWS returns failed children whatever the transformation.
    return started.map((c) =>
      c.status === 'SUCCEEDED' ? JSON.parse(c.output ?? 'null') : executionRecord(c),
    );
  }

  async #items(settings: Settings, host: MapRunHost): Promise<unknown[]> {
    const reader = this.state.ItemReader;
    if (!reader) {
      if (!Array.isArray(settings.items)) {
        throw namedError('States.Runtime', 'The Map state input or ItemsPath is not an array');
      }
      return settings.items;
    }
    const maxItems = settings.readerMaxItems ?? reader.ReaderConfig?.MaxItems;
    return readItems(host.s3(), reader, settings.reader ?? {}, maxItems);
  }

  async #select(items: unknown[], input: unknown, host: MapRunHost): Promise<unknown[]> {
    if (!this.#selector) return items;
    return (await this.#evaluate(this.#selector, host, {
      MapInput: input,
      MapItems: items,
    })) as unknown[];
  }

  /** One child input per item, or per batch `{BatchInput?, Items}` kept within both limits
   * (a batch holds at least one item). */
  #batches(items: unknown[], settings: Settings): Batch[] {
    const batcher = this.state.ItemBatcher;
    if (!batcher) return items.map((item) => ({ input: item, items: 1 }));
    const maxItems =
      settings.maxItemsPerBatch ?? batcher.MaxItemsPerBatch ?? Number.POSITIVE_INFINITY;
    const maxBytes = Math.min(
      settings.maxInputBytesPerBatch ?? batcher.MaxInputBytesPerBatch ?? STATE_PAYLOAD_BYTES,
      STATE_PAYLOAD_BYTES,
    );
    const head = settings.batchInput === undefined ? {} : { BatchInput: settings.batchInput };
    const empty = bytes({ ...head, Items: [] });
    const batches: Batch[] = [];
    let current: unknown[] = [];
    let size = empty;
    const flush = () => {
      if (current.length > 0)
        batches.push({ input: { ...head, Items: current }, items: current.length });
      current = [];
      size = empty;
    };
    for (const item of items) {
      const itemBytes = bytes(item);
      // +1: the comma before every item but the first.
      if (current.length > 0 && (current.length >= maxItems || size + 1 + itemBytes > maxBytes))
        flush();
      size += (current.length > 0 ? 1 : 0) + itemBytes;
      current.push(item);
    }
    flush();
    return batches;
  }
}

const machine = (definition: unknown) =>
  new StateMachine(definition as StateMachineDefinition, {
    validationOptions: { noValidate: true },
  });
