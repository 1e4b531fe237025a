/**
 * One design's local runtime in its own process, for the benchmarks to call over HTTP:
 * `node bench/serve.ts <path of a local/runtime.ts>` — this checkout's, or a baseline
 * commit's (bench/baseline.ts). Both designs then run alike, neither sharing the client's
 * process. Talks JSON lines: prints `{apiUrl}` once started, then answers `usage` (what the
 * run would be billed for, read from the executions and the Lambdas' log output) and `close`.
 * The Lambdas log at INFO, as deployed; their lines are counted, not printed.
 */
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';

const reply = process.stdout.write.bind(process.stdout);
let lambdaLogBytes = 0;
const count = ((chunk: string | Uint8Array) => {
  lambdaLogBytes += Buffer.byteLength(chunk);
  return true;
}) as typeof process.stdout.write;
process.stdout.write = count;
process.stderr.write = count;

interface Execution {
  type: string;
  input: string;
  startDate: Date;
  history: { events: { type: string; stateEnteredEventDetails?: { name: string } }[] };
}
interface AnyRuntime {
  apiUrl: string;
  sfn: { all: () => Execution[] };
  usage?: () => unknown;
  resetUsage?: () => void;
  close: () => Promise<void>;
}

const modulePath = process.argv[2];
if (!modulePath) throw new Error('usage: node bench/serve.ts <local/runtime.ts>');
const { startRuntime } = (await import(pathToFileURL(modulePath).href)) as {
  startRuntime: (o: object) => Promise<AnyRuntime>;
};
const runtime = await startRuntime({ port: 0, sfnPort: 0, s3Port: 0 });
let since = new Date();

/** What both designs' executions say, whatever their code: workflow log bytes (every event
 * with its data, as logged at level ALL), invocations, transitions, staged images. */
const fromExecutions = () => {
  const runs = runtime.sfn.all().filter((e) => e.startDate >= since);
  const events = runs.flatMap((e) => e.history.events);
  return {
    executions: runs.length,
    workflowLogBytes: events.reduce((sum, e) => sum + JSON.stringify(e).length + 1, 0),
    // Task states entered are invocations of the analysis, except the staged object's
    // deletion (an S3 call); every design since the inline one names it alike.
    invocations: events.filter(
      (e) =>
        e.type === 'TaskStateEntered' &&
        e.stateEnteredEventDetails?.name !== 'Discard staged images',
    ).length,
    standardTransitions: runs
      .filter((e) => e.type === 'STANDARD')
      .flatMap((e) => e.history.events)
      .filter((e) => e.type.endsWith('StateEntered')).length,
    stagedImages: runs.reduce((sum, e) => sum + (e.input.match(/"key":/g)?.length ?? 0), 0),
  };
};

reply(`${JSON.stringify({ apiUrl: runtime.apiUrl })}\n`);
for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'usage') {
    reply(
      `${JSON.stringify({ ...fromExecutions(), lambdaLogBytes, metered: runtime.usage?.() ?? null })}\n`,
    );
  } else if (line === 'reset') {
    since = new Date();
    lambdaLogBytes = 0;
    runtime.resetUsage?.();
    reply('{}\n');
  } else if (line === 'close') {
    await runtime.close();
    process.exit(0);
  }
}
