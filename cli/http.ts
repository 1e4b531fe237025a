/**
 * The service's HTTP API as the CLI sees it: one base URL (stage included for a deployed
 * stack), API-key or SigV4 auth, JSON answers, and errors turned into one line each — the
 * service's own `{"error": {"code", "message"}}` when it gave one.
 */
import { ServiceError } from './errors.ts';
import type { Signer } from './sigv4.ts';

export interface ApiAuth {
  apiKey?: string | undefined;
  signer?: Signer | undefined;
}

export interface ApiAnswer {
  status: number;
  headers: Headers;
  body: unknown;
}

export interface RequestOptions {
  body?: Uint8Array;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Called with the bytes handed to the connection so far, as the body streams out. */
  onUpload?: (sentBytes: number) => void;
}

const UPLOAD_CHUNK_BYTES = 64 * 1024;

/** The body as a stream of chunks, so the bytes sent can be counted; its length is known, so
 * it still goes out with Content-Length (API Gateway takes no chunked uploads). With no queue
 * (high-water mark 0), fetch asks for the next chunk only once it has taken the last one: what
 * it has asked for so far is what it has sent, give or take a socket buffer. */
export const countingStream = (bytes: Uint8Array, onUpload: (sent: number) => void) => {
  let sent = 0;
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (sent > 0) onUpload(sent);
        if (sent >= bytes.length) {
          controller.close();
          return;
        }
        const chunk = bytes.subarray(sent, sent + UPLOAD_CHUNK_BYTES);
        sent += chunk.length;
        controller.enqueue(chunk);
      },
    },
    { highWaterMark: 0 },
  );
};

const parse = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
};

const errorOf = (body: unknown) => {
  const error = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  return typeof error?.code === 'string'
    ? { code: error.code, message: String(error.message) }
    : undefined;
};

/** Why a connection failed, in a few words: `ECONNREFUSED`, `ENOTFOUND`, … */
export const reasonOf = (error: unknown) => {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
};

export class ApiClient {
  readonly baseUrl: string;
  readonly #auth: ApiAuth;

  constructor(baseUrl: string, auth: ApiAuth = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.#auth = auth;
  }

  url(path: string) {
    return new URL(`${this.baseUrl}${path}`);
  }

  async request(method: string, path: string, options: RequestOptions = {}): Promise<ApiAnswer> {
    const url = this.url(path);
    const { body, onUpload, signal } = options;
    let headers: Record<string, string> = { accept: 'application/json', ...options.headers };
    if (body) headers['content-length'] = String(body.length);
    if (this.#auth.apiKey) headers['x-api-key'] = this.#auth.apiKey;
    if (this.#auth.signer) {
      headers = await this.#auth.signer({ method, url, headers, ...(body && { body }) });
    }
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers,
        ...(body && {
          body: onUpload ? countingStream(body, onUpload) : body,
          duplex: 'half',
        }),
        ...(signal && { signal }),
      });
    } catch (error) {
      if (signal?.aborted) throw error;
      throw new ServiceError(`cannot reach ${this.baseUrl} (${reasonOf(error)})`, { cause: error });
    }
    const answer = { status: res.status, headers: res.headers, body: parse(await res.text()) };
    if (res.status >= 400) throw this.#failure(method, path, answer);
    return answer;
  }

  #failure(method: string, path: string, { status, body }: ApiAnswer) {
    const error = errorOf(body);
    const said = error ? `${error.code}: ${error.message}` : String(body).slice(0, 200);
    const hint =
      status === 403 && !this.#auth.signer && !this.#auth.apiKey
        ? ' (a deployed stack may need --api-key or --iam)'
        : '';
    return new ServiceError(`${method} ${path} answered ${status} ${said}${hint}`, {
      status,
      ...(error && { code: error.code }),
    });
  }
}
