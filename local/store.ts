/**
 * Where the local Step Functions keeps its executions between restarts of `npm start`: one
 * JSON file per execution, written when it starts (status RUNNING, its input) and rewritten
 * when it stops (status, output or error, the whole history). A file is replaced atomically
 * (written beside, then renamed), so a crash leaves either the old record or the new one,
 * never half of one; a record still RUNNING when the runtime starts is a run the crash cut
 * short. One file per run keeps eviction a single unlink and reading a run a single parse;
 * the runs are few enough (a person's, on a laptop) that reading them all at start is cheap.
 */
import { mkdir, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ExecutionFacts } from './sfn/execution.ts';

/** An execution as written: dates as ISO text, the history as GetExecutionHistory gives it. */
export interface StoredExecution extends ExecutionFacts {
  startDate: string;
  stopDate?: string;
  events?: StoredEvent[];
}

/** A HistoryEvent with its timestamp as ISO text. */
export interface StoredEvent {
  timestamp: string;
  type: string;
  id: number;
  previousEventId: number;
  [details: string]: unknown;
}

/** `…:execution:ImageBatchAsync:<name>` → `ImageBatchAsync.<name>.json`: names are
 * `[A-Za-z0-9_-]`, so the file name is the ARN's tail, readable in a file browser. */
const fileName = (executionArn: string) => `${executionArn.split(':').slice(6).join('.')}.json`;

export class ExecutionStore {
  readonly directory: string;
  /** The last write of each file: writes to one file go in order. */
  readonly #pending = new Map<string, Promise<void>>();

  constructor(directory: string) {
    this.directory = directory;
  }

  /** Every stored execution; a file that does not parse (written by hand?) is skipped. */
  async load(): Promise<StoredExecution[]> {
    await mkdir(this.directory, { recursive: true });
    const names = (await readdir(this.directory)).filter((name) => name.endsWith('.json'));
    const records = await Promise.all(
      names.map(async (name) => {
        try {
          return JSON.parse(await readFile(path.join(this.directory, name), 'utf8'));
        } catch {
          return undefined;
        }
      }),
    );
    return records.filter((r): r is StoredExecution => typeof r?.executionArn === 'string');
  }

  save(record: StoredExecution): Promise<void> {
    const file = path.join(this.directory, fileName(record.executionArn));
    return this.#queue(file, async () => {
      const temporary = `${file}.${process.pid}.tmp`;
      await writeFile(temporary, JSON.stringify(record));
      await rename(temporary, file);
    });
  }

  remove(executionArn: string): Promise<void> {
    const file = path.join(this.directory, fileName(executionArn));
    return this.#queue(file, () =>
      unlink(file).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      }),
    );
  }

  /** Resolves once everything asked so far is on disk. */
  async flush(): Promise<void> {
    await Promise.all(this.#pending.values());
  }

  #queue(file: string, write: () => Promise<void>): Promise<void> {
    const next = (this.#pending.get(file) ?? Promise.resolve()).then(write, write);
    const settled = next.catch((error: Error) => {
      // The run goes on in memory; only its survival of a restart is lost.
      console.error(`local state: could not write ${file}: ${error.message}`);
    });
    this.#pending.set(file, settled);
    void settled.then(() => {
      if (this.#pending.get(file) === settled) this.#pending.delete(file);
    });
    return settled;
  }
}
