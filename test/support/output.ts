import { afterAll, beforeAll, vi } from 'vitest';

/**
 * What the process writes to stdout and stderr during one test file, captured and never
 * printed: Powertools writes INFO to stdout and ERROR to stderr. One entry per write; empty
 * the array to start afresh. Every mock is restored after the file.
 */
export const useCapturedOutput = () => {
  const written: string[] = [];
  beforeAll(() => {
    for (const stream of [process.stdout, process.stderr]) {
      vi.spyOn(stream, 'write').mockImplementation((chunk) => {
        written.push(String(chunk));
        return true;
      });
    }
  });
  afterAll(() => vi.restoreAllMocks());
  return written;
};

/** The JSON lines (log records) among what was captured, parsed, in the order written. */
export const jsonLines = (written: string[]) =>
  written
    .join('')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
