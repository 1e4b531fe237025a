/**
 * One way to bound an operation in time, for the ingest waiting on its workflow and for the
 * local runtime's Lambda and API Gateway timeouts: the work gets an AbortSignal it may pass on
 * (to the SDK, to fetch), and the deadline holds whatever the work does with it.
 */

export class DeadlineExceededError extends Error {
  readonly timeoutMs: number;
  constructor(timeoutMs: number) {
    super(`Not done within ${timeoutMs} ms`);
    this.name = 'DeadlineExceededError';
    this.timeoutMs = timeoutMs;
  }
}

/** Runs `work`, rejecting with DeadlineExceededError once `timeoutMs` have passed (and
 * aborting the signal with it). Whatever the work rejects with after an abort is replaced by
 * that error: a cancelled SDK call's AbortError says nothing the caller can use. */
export const withDeadline = async <T>(
  timeoutMs: number,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> => {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new DeadlineExceededError(timeoutMs);
      controller.abort(error);
      reject(error);
    }, timeoutMs);
  });
  try {
    return await Promise.race([work(controller.signal), expired]);
  } catch (error) {
    if (controller.signal.aborted) throw controller.signal.reason;
    throw error;
  } finally {
    clearTimeout(timer);
  }
};
