/**
 * The asynchronous route: the same POST with `Prefer: respond-async` (RFC 7240) starts the
 * STANDARD workflow (≤ 200 images); then `GET /executions/{id}` until Step Functions reports
 * it done, as often as its `Retry-After` says.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ServiceError } from '../errors.ts';
import { perImage, postForm, type Transport } from './transport.ts';

interface ExecutionView {
  executionId: string;
  status: string;
  result?: unknown;
  error?: { code: string; message: string; workflowError?: string };
}

const DEFAULT_POLL_MS = 1000;

export const retryAfterMs = (headers: Headers) => {
  const seconds = Number(headers.get('retry-after'));
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : DEFAULT_POLL_MS;
};

export const asyncTransport: Transport = {
  async analyze(batch, context) {
    const { client, progress, signal } = context;
    const accepted = await postForm(batch, context, {
      route: 'async: 202, then polling',
      headers: { prefer: 'respond-async' },
    });
    const id = (accepted.body as Partial<ExecutionView> | null)?.executionId;
    if (accepted.status !== 202 || typeof id !== 'string') {
      throw new ServiceError(
        `POST /${batch.view} with Prefer: respond-async answered ${accepted.status} without an execution`,
      );
    }
    const path = `/executions/${encodeURIComponent(id)}`;
    context.onRun?.(`execution ${id} (${client.url(path).href})`);
    let wait = 0;
    for (;;) {
      await sleep(wait, undefined, { signal });
      const polled = await client.request('GET', path, { signal });
      const view = polled.body as ExecutionView;
      progress.analysisStatus(view.status);
      if (view.status === 'SUCCEEDED') return perImage(view.result, batch.files);
      if (view.status !== 'RUNNING') {
        const why = view.error ? `${view.error.code}: ${view.error.message}` : view.status;
        throw new ServiceError(`execution ${id} ended ${view.status} (${why})`);
      }
      wait = retryAfterMs(polled.headers);
    }
  },
};
