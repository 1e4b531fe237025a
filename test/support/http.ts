/** Real clients for the integration tests: fetch with FormData, and curl itself; and loopback
 * listening for the tests' stand-in servers. */
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { FIXTURE_IMAGES } from './fixtures.ts';

const run = promisify(execFile);

export interface Answer {
  status: number;
  headers: Headers;
  body: unknown;
}

const answer = async (res: Response): Promise<Answer> => {
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: the test will show the text.
  }
  return { status: res.status, headers: res.headers, body };
};

/** POSTs the named fixtures as `image` parts, encoded by the platform's FormData. */
export const postImages = async (
  url: string,
  files: { name: string; bytes: Buffer; type?: string }[],
  extra: Record<string, string> = {},
  headers: Record<string, string> = {},
): Promise<Answer> => {
  const form = new FormData();
  for (const [k, v] of Object.entries(extra)) form.append(k, v);
  for (const f of files) {
    form.append('image', new Blob([new Uint8Array(f.bytes)], { type: f.type ?? '' }), f.name);
  }
  return answer(await fetch(url, { method: 'POST', body: form, headers }));
};

export const postRaw = async (
  url: string,
  bytes: Buffer,
  contentType: string,
  headers: Record<string, string> = {},
): Promise<Answer> =>
  answer(
    await fetch(url, {
      method: 'POST',
      body: new Uint8Array(bytes),
      headers: { 'content-type': contentType, ...headers },
    }),
  );

export const get = async (url: string, init?: RequestInit): Promise<Answer> =>
  answer(await fetch(url, init));

/** GETs a batch's status (an asynchronous request's, a large batch's) every `everyMs` until it
 * is no longer RUNNING, `tries` times at most (by default every 50 ms, 200 times). */
export const settled = async (
  url: string,
  { everyMs = 50, tries = 200 }: { everyMs?: number; tries?: number } = {},
): Promise<Answer> => {
  for (let i = 0; i < tries; i++) {
    const res = await get(url);
    if ((res.body as { status: string }).status !== 'RUNNING') return res;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error('still running');
};

/** A presigned POST form, as POST /batches and its uploads pages give them. */
export interface UploadForm {
  index: number;
  url: string;
  fields: Record<string, string>;
}

/** A browser's form upload to S3: the policy's fields (`override` replacing some), then the
 * file. */
export const postToForm = async (
  form: UploadForm,
  bytes: Buffer,
  type: string,
  override: Record<string, string> = {},
) => {
  const body = new FormData();
  for (const [k, v] of Object.entries({ ...form.fields, ...override })) body.append(k, v);
  body.append('file', new Blob([new Uint8Array(bytes)], { type }));
  const res = await fetch(form.url, { method: 'POST', body });
  return { status: res.status, text: await res.text() };
};

/** Runs curl from the repository root, as the README's lines do. */
export const curl = async (...args: string[]) => {
  const { stdout } = await run('curl', ['--silent', '--show-error', ...args], {
    cwd: path.resolve(import.meta.dirname, '../..'),
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout;
};

export const fixturePath = (name: string) => path.join(FIXTURE_IMAGES, name);

/** Listens on a free loopback port: the server's base URL, and a close that ends the clients'
 * open connections instead of waiting for them. */
export const listenOnLoopback = async (server: http.Server) => {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};
