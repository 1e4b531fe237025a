/**
 * A sandbox's log text, from the function's writes to the pool's lines (CloudWatch Logs' log
 * events, one a line). The worker decodes what is written (sandbox-worker.ts) and the pool cuts
 * it into lines (sandbox.ts); both keep what is unfinished across writes and hand it over at
 * the end of an invocation, before its answer.
 */
import { StringDecoder } from 'node:string_decoder';

type Write = (
  chunk: string | Uint8Array,
  encoding?: BufferEncoding | ((error?: Error | null) => void),
  callback?: (error?: Error | null) => void,
) => boolean;

/**
 * Sends what is written to a stream to `post` as text instead. Bytes go through one decoder
 * per stream, so that a UTF-8 character split between two writes arrives whole (decoding each
 * write alone turned both halves into U+FFFD). `flush` posts what the decoder still holds.
 */
export const forwardWrites = (stream: { write: unknown }, post: (text: string) => void) => {
  const decoder = new StringDecoder('utf8');
  const write: Write = (chunk, encoding, callback) => {
    // Node ignores the encoding argument of a Buffer write; a string's is how it is written.
    const text =
      typeof chunk === 'string'
        ? Buffer.from(chunk, typeof encoding === 'string' ? encoding : 'utf8').toString('utf8')
        : decoder.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    if (text) post(text);
    const done = typeof encoding === 'function' ? encoding : callback;
    if (done) queueMicrotask(() => done());
    return true;
  };
  stream.write = write;
  return {
    flush: () => {
      const rest = decoder.end();
      if (rest) post(rest);
    },
  };
};

/** Text in pieces to lines; `flush` hands over an unfinished last line (Lambda delivers a
 * final line without its newline as a log event of its own). */
export class LogLines {
  #partial = '';
  readonly #log: (line: string) => void;
  constructor(log: (line: string) => void) {
    this.#log = log;
  }

  take(text: string) {
    const lines = (this.#partial + text).split(/\r?\n/);
    this.#partial = lines.pop() ?? '';
    for (const line of lines) this.#log(line);
  }

  flush() {
    if (this.#partial) this.#log(this.#partial);
    this.#partial = '';
  }
}
