/**
 * libuv's thread pool runs a process's file system calls, zlib, DNS lookups, async crypto and
 * sharp's work, with 4 threads by default. In AWS every Lambda sandbox is a process with its
 * own four; here every sandbox (worker threads), s3rver's file reads and writes and the
 * execution store share one process, so a burst of analyses would leave the local S3 queuing
 * behind sharp. The pool is created at its first use and keeps its size: this module is
 * imported first by runtime.ts, so that whoever starts a runtime (`npm start`, the benchmarks)
 * gets four threads per sandbox the runtime may start, unless UV_THREADPOOL_SIZE is set.
 * https://docs.libuv.org/en/v1.x/threadpool.html
 */
import { FUNCTION_SETTINGS } from '../infra/settings.ts';

/** How many ingest sandboxes a runtime runs at once unless told otherwise (its option
 * `ingestConcurrency`). */
export const DEFAULT_INGEST_CONCURRENCY = 10;

/** libuv's own cap. */
const MAX_THREADS = 1024;

const sandboxes = DEFAULT_INGEST_CONCURRENCY + FUNCTION_SETTINGS.analyze.reservedConcurrency;
// Plus the process's own four, for s3rver and the store.
process.env.UV_THREADPOOL_SIZE ||= String(Math.min(MAX_THREADS, 4 * (sandboxes + 1)));
