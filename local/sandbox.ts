/**
 * A function's sandboxes, as Lambda keeps them: each runs one invocation at a time; an
 * invocation takes an idle one, or starts a new one (a cold start: module load and factory)
 * while fewer than the function's concurrency exist, or else waits for one to free up. Idle
 * sandboxes are reused, the most recently used first, and reclaimed after a while; one that
 * timed out or crashed is thrown away, as Lambda resets the environment.
 * https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html
 *
 * Sandboxes are worker threads (sandbox-worker.ts) with their own module instances, logger and
 * clients, and Lambda's environment variables. The heap is capped at the function's memory.
 */
import { createInterface } from 'node:readline';
import { Worker } from 'node:worker_threads';
// sharp's shared libraries must be loaded by the main thread before any worker loads them, or
// glibc unloads them when a worker exits while others still use them (sharp's documentation,
// "Worker threads"; lovell/sharp#2263). libvips' loader blocks are process-wide: set once here,
// for every sandbox, which must not set them again under a sibling's decode (loaders.ts).
import { restrictLoaders } from '../lambdas/analyze/loaders.ts';
import { DeadlineExceededError, withDeadline } from '../lambdas/shared/deadline.ts';
import { LogLines } from './sandbox-log.ts';
import type {
  InvocationContext,
  SandboxReply,
  SandboxRequest,
  SandboxSpec,
} from './sandbox-worker.ts';

restrictLoaders();

export interface PoolOptions {
  spec: SandboxSpec;
  /** At most this many sandboxes: the function's (reserved) concurrency. */
  concurrency: number;
  memoryMb: number;
  region: string;
  /** The function's own environment variables, over the runtime's (POWERTOOLS_LOG_LEVEL…). */
  environment?: Record<string, string>;
  /** One line a sandbox wrote (its stdout and stderr); by default the terminal's stdout. */
  onLog?: (line: string) => void;
  /** Each S3 command a sandbox sent, for the local meter. */
  onS3Command?: (command: string) => void;
  /** Idle sandboxes are reclaimed after this long (Lambda's is undocumented: minutes). */
  idleMs?: number;
}

/** Raised as Lambda names it; the caller maps these to what the invoker sees. */
export class SandboxError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

const WORKER_FILE = new URL('./sandbox-worker.ts', import.meta.url);
/** Lambda times the function inside its environment; an answer given in time (middy answers
 * 5 ms before the deadline) still has to reach this thread, with its log lines. */
const TRANSIT_ALLOWANCE_MS = 250;

class Sandbox {
  readonly worker: Worker;
  readonly ready: Promise<void>;
  #pending?: {
    id: number;
    resolve: (reply: SandboxReply & { type: 'result' }) => void;
    reject: (e: Error) => void;
  };
  #nextId = 0;
  #idleTimer?: NodeJS.Timeout;
  #crash?: Error;
  dead = false;

  constructor(options: PoolOptions, onExit: (sandbox: Sandbox) => void) {
    const { spec, memoryMb, region } = options;
    this.worker = new Worker(WORKER_FILE, {
      workerData: spec,
      // Lambda's reserved variables the runtime sets (not its credentials: the clients are
      // given theirs). https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html
      env: {
        ...process.env,
        AWS_REGION: region,
        AWS_DEFAULT_REGION: region,
        AWS_LAMBDA_FUNCTION_NAME: spec.function,
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(memoryMb),
        AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
        AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
        AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${spec.function}`,
        // Not Lambda's: this process has restricted libvips' loaders for every sandbox.
        LIBVIPS_LOADERS_RESTRICTED_BY_HOST: '1',
        ...options.environment,
      },
      resourceLimits: { maxOldGenerationSizeMb: memoryMb },
      stdout: true,
      stderr: true,
    });
    const log = options.onLog ?? ((line: string) => process.stdout.write(`${line}\n`));

    // What the worker writes itself comes as messages (sandbox-worker.ts), cut into lines
    // here; anything that reaches its stdio streams some other way is read as before.
    for (const stream of [this.worker.stdout, this.worker.stderr]) {
      createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on('line', log);
    }
    const lines = { stdout: new LogLines(log), stderr: new LogLines(log) };
    const flush = () => {
      lines.stdout.flush();
      lines.stderr.flush();
    };
    this.worker.once('exit', flush);
    this.ready = new Promise((resolve, reject) => {
      this.worker.on('message', (reply: SandboxReply) => {
        if (reply.type === 'log') lines[reply.stream].take(reply.text);
        else if (reply.type === 'ready') resolve();
        else if (reply.type === 'init-failed')
          reject(new SandboxError('Runtime.ImportModuleError', reply.error.message));
        else {
          // A last line without its newline is the invocation's too: out before the answer.
          flush();
          if (reply.id === this.#pending?.id) this.#pending.resolve(reply);
        }
      });
      this.worker.once('exit', (code) => {
        this.dead = true;
        const why = this.#crash
          ? `${this.#crash.name}: ${this.#crash.message}`
          : `exit status ${code}`;
        const error = new SandboxError('Runtime.ExitError', `Runtime exited with error: ${why}`);
        reject(error);
        this.#pending?.reject(error);
        clearTimeout(this.#idleTimer);
        onExit(this);
      });
    });
    // An init failure is reported to the invocation that waits for it.
    this.ready.catch(() => undefined);
    // An uncaught error ends the sandbox, as it ends Lambda's runtime: logged like Lambda logs
    // it, then 'exit' reports it to the invocation.
    this.worker.on('error', (error) => {
      this.#crash = error;
      log(
        JSON.stringify({
          level: 'ERROR',
          errorType: error.name,
          errorMessage: error.message,
          stack: error.stack?.split('\n'),
        }),
      );
    });
  }

  run(event: string, context: InvocationContext) {
    clearTimeout(this.#idleTimer);
    const id = ++this.#nextId;
    return new Promise<SandboxReply & { type: 'result' }>((resolve, reject) => {
      this.#pending = { id, resolve, reject };
      this.worker.postMessage({ id, event, context } satisfies SandboxRequest);
    }).finally(() => {
      this.#pending = undefined;
    });
  }

  idle(ms: number, reclaim: () => void) {
    this.#idleTimer = setTimeout(reclaim, ms).unref();
  }

  terminate() {
    this.dead = true;
    clearTimeout(this.#idleTimer);
    return this.worker.terminate();
  }
}

export class SandboxPool {
  readonly #options: PoolOptions;
  readonly #all = new Set<Sandbox>();
  /** Free sandboxes, the most recently used last. */
  readonly #idle: Sandbox[] = [];
  readonly #waiting: (() => void)[] = [];
  #closed = false;

  constructor(options: PoolOptions) {
    this.#options = options;
  }

  /** How many sandboxes exist (busy or idle): what a cold start adds to. */
  get size() {
    return this.#all.size;
  }

  /**
   * Runs one invocation: `event` is the request's JSON text, the result the response's.
   * Times out at `context.deadline`: the sandbox is then discarded (Lambda resets it).
   */
  async invoke(event: string, context: Omit<InvocationContext, 'deadline'>, timeoutMs: number) {
    const sandbox = await this.#acquire();
    let running: Promise<unknown> | undefined;
    try {
      await sandbox.ready;
      const reply = await withDeadline(timeoutMs + TRANSIT_ALLOWANCE_MS, () => {
        const run = sandbox.run(event, { ...context, deadline: Date.now() + timeoutMs });
        running = run;
        return run;
      });
      for (const command of reply.s3Commands) this.#options.onS3Command?.(command);
      if (reply.error) throw new SandboxError(reply.error.name, reply.error.message);
      return reply.result ?? 'null';
    } catch (caught) {
      const error =
        caught instanceof DeadlineExceededError
          ? new SandboxError(
              'Sandbox.Timedout',
              `Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`,
            )
          : caught;
      if (error instanceof SandboxError && /^(Sandbox|Runtime)\./.test(error.name)) {
        this.#discard(sandbox, running);
      }
      throw error;
    } finally {
      this.#release(sandbox);
    }
  }

  async close() {
    this.#closed = true;
    await Promise.all([...this.#all].map((s) => s.terminate()));
    this.#all.clear();
    this.#idle.length = 0;
  }

  async #acquire(): Promise<Sandbox> {
    for (;;) {
      if (this.#closed)
        throw new SandboxError('Lambda.ServiceException', 'The local runtime is closing');
      const idle = this.#idle.pop();
      if (idle) return idle;
      if (this.#all.size < this.#options.concurrency) {
        const sandbox = new Sandbox(this.#options, (s) => this.#forget(s));
        this.#all.add(sandbox);
        return sandbox;
      }
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    }
  }

  #release(sandbox: Sandbox) {
    if (!sandbox.dead && !this.#closed) {
      this.#idle.push(sandbox);
      sandbox.idle(this.#options.idleMs ?? 5 * 60_000, () => this.#discard(sandbox));
    }
    this.#waiting.shift()?.();
  }

  /** Thrown away: a timed-out sandbox may still be busy, and sharp must not be cut off
   * mid-call (lovell/sharp#2263), so it ends once it answers, or after a grace period. */
  #discard(sandbox: Sandbox, running?: Promise<unknown>) {
    sandbox.dead = true;
    this.#forget(sandbox);
    if (!running) {
      void sandbox.terminate();
      return;
    }
    const grace = setTimeout(() => void sandbox.terminate(), 10_000).unref();
    void running
      .catch(() => undefined)
      .finally(() => {
        clearTimeout(grace);
        void sandbox.terminate();
      });
  }

  #forget(sandbox: Sandbox) {
    this.#all.delete(sandbox);
    const at = this.#idle.indexOf(sandbox);
    if (at >= 0) this.#idle.splice(at, 1);
    this.#waiting.shift()?.();
  }
}
