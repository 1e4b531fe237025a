/**
 * The `image-batch` program: commander parses, `analyze` runs, and whatever goes wrong ends as
 * one line on stderr and exit status 2 (usage errors add the usage line); Ctrl-C as 130.
 * `run()` is what the launcher (bin/image-batch.js) calls, on the user's own Node ≥ 20.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import pkg from '../package.json' with { type: 'json' };
import { type AnalyzeOptions, analyzeCommand, type CliIo, type RunState } from './analyze.ts';
import { CliError } from './errors.ts';
import { FORMATS } from './output.ts';
import { VIEWS } from './transports/transport.ts';

const USAGE = 'usage: image-batch analyze [options] <files, folders or globs...>  (--help for all)';

const positiveInteger = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 256) {
    throw new InvalidArgumentError('expected a whole number from 1 to 256.');
  }
  return n;
};

const program = (io: CliIo, state: RunState, exit: { code: number }) => {
  const root = new Command('image-batch')
    .description('Shape and decoded size of every image, from the image-batch service.')
    .version(pkg.version)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    });
  root
    .command('analyze')
    .description('Analyze image files, folders (every file under them) and globs.')
    .argument('<paths...>', 'image files, folders or globs (quote globs)')
    .option('--api <url>', 'the API base URL', io.env.IMAGE_BATCH_API || 'http://127.0.0.1:3000')
    .addOption(
      new Option('--view <view>', 'what to answer per image').choices(VIEWS).default('analyze'),
    )
    .addOption(
      new Option(
        '--format <format>',
        'output (default: table on a terminal, json otherwise)',
      ).choices(FORMATS),
    )
    .addOption(new Option('--sync', 'force the synchronous route').conflicts(['async', 'batch']))
    .addOption(
      new Option('--async', 'force the asynchronous route (202, then polling)').conflicts('batch'),
    )
    .option('--batch', 'force the large-batch route (/batches: uploads straight to S3)')
    .option('--concurrency <n>', 'files read or uploaded at once', positiveInteger, 8)
    .option('--fail-on-unreadable', 'exit 1 when any image is unreadable')
    .addOption(
      new Option('--api-key <key>', 'API key, for a stack deployed with -c auth=apiKey').env(
        'IMAGE_BATCH_API_KEY',
      ),
    )
    .option('--iam', 'sign requests (SigV4, standard AWS credential chain): -c auth=iam')
    .option('--region <region>', 'region for --iam when the URL does not say')
    .action(async (paths: string[], options: AnalyzeOptions) => {
      exit.code = await analyzeCommand(paths, options, io, state);
    });
  return root;
};

export const main = async (argv: string[], io: CliIo): Promise<number> => {
  const state: RunState = {};
  const exit = { code: 0 };
  try {
    await program(io, state, exit).parseAsync(argv, { from: 'user' });
    return exit.code;
  } catch (error) {
    state.progress?.stop();
    if (error instanceof CommanderError) {
      // Help and --version end here with 0; parse errors were printed by commander.
      if (error.exitCode === 0) return 0;
      io.stderr.write(`${USAGE}\n`);
      return 2;
    }
    if (io.interrupt.aborted) {
      if (state.cancel) {
        // A second Ctrl-C exits at once (run() below), leaving the batch to the lifecycle rule.
        io.stderr.write(
          'image-batch: interrupted; cancelling the batch (Ctrl-C again to quit now)\n',
        );
        io.stderr.write(`image-batch: interrupted; ${await state.cancel()}\n`);
        return 130;
      }
      const left = state.run ? `; ${state.run} goes on in the service` : '';
      io.stderr.write(`image-batch: interrupted${left}\n`);
      return 130;
    }
    if (error instanceof CliError) {
      io.stderr.write(`image-batch: ${error.message}\n`);
      if (error.showUsage) io.stderr.write(`${USAGE}\n`);
      return error.exitCode;
    }
    io.stderr.write(`image-batch: unexpected failure: ${(error as Error).message}\n`);
    return 2;
  }
};

/** The process glue: Ctrl-C aborts the run (a second one ends it at once), a closed stdout
 * (`| head`) ends it quietly, and the process ends as soon as the output is out. */
export const run = async () => {
  const interrupt = new AbortController();
  process.on('SIGINT', () => {
    if (interrupt.signal.aborted) process.exit(130);
    interrupt.abort();
  });
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
  const code = await main(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    interrupt: interrupt.signal,
  });
  // fetch keeps its connection open for reuse, which would hold the process a while: once
  // stdout has taken everything, there is nothing left to do.
  process.stdout.write('', () => process.exit(code));
};
