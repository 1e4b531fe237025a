/**
 * `image-batch analyze`: expand the paths, pick the route, carry the images, print one result
 * per file in the order given. Answers the exit status: 0, 1 when `--fail-on-unreadable` meets
 * an unreadable image; failures throw (see errors.ts).
 */
import { ServiceError, UsageError } from './errors.ts';
import { collectFiles } from './files.ts';
import { ApiClient } from './http.ts';
import { errorOf, type Format, isNotAnalyzed, isUnreadable, render, toRecords } from './output.ts';
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
  batch?: boolean;
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
  /** Calls off what an interruption now would leave in the service (an unstarted batch), and
   * says what it did. */
  cancel?: () => Promise<string>;
}

/** The sync route's refusals of a set too large for one request, which the large-batch route
 * takes: the service's configuration or the images' pixels said no where the published
 * limits said yes. Nothing was started (README, "Limits"). */
const TOO_LARGE_FOR_ONE_REQUEST = new Set([
  'TOO_MANY_IMAGES',
  'PAYLOAD_TOO_LARGE',
  'PIXEL_BUDGET_EXCEEDED',
]);

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
  const forced: RouteName | undefined = options.sync
    ? 'sync'
    : options.async
      ? 'async'
      : options.batch
        ? 'batch'
        : undefined;
  const send = (route: RouteName) => {
    const progress = io.stderr.isTTY ? barProgress(io.stderr) : lineProgress(io.stderr);
    state.progress = progress;
    return TRANSPORTS[route].analyze(
      { view: options.view, files },
      {
        client,
        progress,
        signal: io.interrupt,
        concurrency: options.concurrency,
        onRun: (run) => {
          state.run = run;
          state.cancel = undefined;
          progress.runStarted(run);
        },
        onCancelable: (cancel) => {
          state.cancel = cancel;
        },
      },
    );
  };
  const route = chooseRoute(files, forced);
  let answers: unknown[];
  try {
    answers = await send(route);
  } catch (error) {
    const refused =
      error instanceof ServiceError &&
      error.status === 413 &&
      TOO_LARGE_FOR_ONE_REQUEST.has(error.code ?? '');
    if (forced || route !== 'sync' || !refused || io.interrupt.aborted) throw error;
    state.progress?.stop();
    answers = await send('batch');
  }
  const progress = state.progress as Progress;
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
  // Images the service failed to analyze (its fault, not theirs) are printed with their error,
  // and the run is a service error: nothing is lost, and the status says to run them again.
  const failed = records.filter(isNotAnalyzed);
  if (failed.length > 0) {
    const codes = [...new Set(failed.map((r) => errorOf(r)?.code))].join(', ');
    io.stderr.write(
      `image-batch: ${failed.length} of ${records.length} images were not analyzed (${codes}: the service's failure, not the images'); run them again\n`,
    );
    return 2;
  }
  return options.failOnUnreadable && unreadable > 0 ? 1 : 0;
};
