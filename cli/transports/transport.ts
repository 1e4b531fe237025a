/**
 * A transport carries a set of images to the service by one of its routes and brings back one
 * answer per image, in order, exactly as the route's view shapes it (`[h,w,c]` or `[]` for
 * /shape, kB or `[]` for /nbytes, a record for /analyze; on the large-batch route `{error}`
 * for an image /shape or /nbytes could not analyze). The CLI picks one per run.
 */
import { ServiceError } from '../errors.ts';
import type { InputFile } from '../files.ts';
import type { ApiClient } from '../http.ts';
import type { Progress } from '../progress.ts';
import { encodeForm, partsSent } from './form.ts';

export const VIEWS = ['shape', 'nbytes', 'analyze'] as const;
export type View = (typeof VIEWS)[number];

export interface Batch {
  view: View;
  files: readonly InputFile[];
}

export interface TransportContext {
  client: ApiClient;
  progress: Progress;
  signal: AbortSignal;
  /** Files read (and, on routes that upload one by one, uploaded) at once. */
  concurrency: number;
  /** Set by a transport once the service holds a run the user may want to find again. */
  onRun?: (description: string) => void;
  /** Set by a transport that holds something in the service if the run is interrupted now
   * (an unstarted batch): calls it off, and says what it did or, if it could not, what
   * remains. Never throws. */
  onCancelable?: (cancel: () => Promise<string>) => void;
}

export interface Transport {
  analyze(batch: Batch, context: TransportContext): Promise<unknown[]>;
}

/** POSTs the batch as one multipart form to its view's route, counting what is sent; the
 * analysis phase starts on the progress display once the last byte is out. */
export const postForm = async (
  { view, files }: Batch,
  { client, progress, signal, concurrency }: TransportContext,
  { route, headers = {} }: { route: string; headers?: Record<string, string> },
) => {
  const form = await encodeForm(files, { concurrency });
  const path = `/${view}`;
  progress.uploadStarted(files.length, form.body.length, `${client.url(path).href} (${route})`);
  return client.request('POST', path, {
    body: form.body,
    headers: { 'content-type': form.contentType, ...headers },
    signal,
    onUpload: (sent) => {
      progress.uploaded(partsSent(form.partEnds, sent), sent);
      if (sent === form.body.length) progress.analysisStarted(files.length);
    },
  });
};

/** The answer must be one entry per image: anything else is a service fault, not a result. */
export const perImage = (body: unknown, files: readonly InputFile[]): unknown[] => {
  if (Array.isArray(body) && body.length === files.length) return body;
  const got = Array.isArray(body) ? `${body.length} answers` : 'no list';
  throw new ServiceError(`the service answered ${got} for ${files.length} images`);
};
