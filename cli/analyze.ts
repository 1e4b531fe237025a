/**
 * `image-batch analyze`: expand the paths, pick the route, carry the images, print one result
 * per file in the order given. Answers the exit status: 0, 1 when `--fail-on-unreadable` meets
 * an unreadable image; failures throw (see errors.ts).
 */
import { UsageError } from './errors.ts';
import { collectFiles } from './files.ts';
import { ApiClient } from './http.ts';
import { type Format, isUnreadable, render, toRecords } from './output.ts';
import { barProgress, lineProgress, type Progress } from './progress.ts';
import { chooseRoute, type RouteName, TRANSPORTS } from './transports/index.ts';
import type { View } from './transports/transport.ts';

export interface Terminal extends NodeJS.WritableStream {
  isTTY?: boolean;
}

export interface CliIo {
  stdout: Terminal;
  stderr: Terminal;
  env: Record<string, string | undefined>;
  cwd: string;
  /** Aborted on Ctrl-C. */
  interrupt: AbortSignal;
}

export interface AnalyzeOptions {
  api: string;
  view: View;
  format?: Format;
  sync?: boolean;
  async?: boolean;
  concurrency: number;
  failOnUnreadable?: boolean;
  apiKey?: string;
  iam?: boolean;
  region?: string;
}

/** Set by a run as it goes, for the Ctrl-C message: what the service may still be doing. */
export interface RunState {
  progress?: Progress;
  run?: string;
}

const apiUrl = (api: string) => {
  let url: URL;
  try {
    url = new URL(api);
  } catch {
    throw new UsageError(`--api ${api} is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`--api ${api} is not an http(s) URL`);
  }
  return url;
};

const clientFor = async (options: AnalyzeOptions, env: CliIo['env']) => {
  const url = apiUrl(options.api);
  if (!options.iam) return new ApiClient(url.href, { apiKey: options.apiKey });
  // Loaded only here: the AWS credential chain is most of the CLI's weight.
  const { createSigner, regionOf } = await import('./sigv4.ts');
  const region = options.region ?? regionOf(url, env);
  if (!region) {
    throw new UsageError('--iam needs the API region: an execute-api URL, --region or AWS_REGION');
  }
  return new ApiClient(url.href, { apiKey: options.apiKey, signer: createSigner({ region }) });
};

export const analyzeCommand = async (
  paths: string[],
  options: AnalyzeOptions,
  io: CliIo,
  state: RunState,
): Promise<number> => {
  const client = await clientFor(options, io.env);
  const files = await collectFiles(paths, io.cwd);
  const forced: RouteName | undefined = options.sync ? 'sync' : options.async ? 'async' : undefined;
  const route = chooseRoute(files, forced);
  const progress = io.stderr.isTTY ? barProgress(io.stderr) : lineProgress(io.stderr);
  state.progress = progress;
  const answers = await TRANSPORTS[route].analyze(
    { view: options.view, files },
    {
      client,
      progress,
      signal: io.interrupt,
      concurrency: options.concurrency,
      onRun: (run) => {
        state.run = run;
        progress.runStarted(run);
      },
    },
  );
  const records = toRecords(
    options.view,
    files.map((f) => f.file),
    answers,
  );
  const unreadable = records.filter((r) => isUnreadable(options.view, r)).length;
  progress.analysisFinished(records.length, unreadable);
  progress.stop();
  const format = options.format ?? (io.stdout.isTTY ? 'table' : 'json');
  io.stdout.write(`${render(format, options.view, records)}\n`);
  return options.failOnUnreadable && unreadable > 0 ? 1 : 0;
};
