/**
 * No image byte reaches the workflow: a batch of real images through the local runtime, sync
 * and async, then the execution input, every history event (what Step Functions logs at level
 * ALL with execution data, and what Standard keeps for 90 days) and every log line the
 * Lambdas wrote are searched for fragments of each image's base64.
 */
import { describe, expect, it, vi } from 'vitest';
import { fixtureExpected, fixtureImage } from '../support/fixtures.ts';
import { postImages, settled } from '../support/http.ts';
import { useCapturedOutput } from '../support/output.ts';
import { useLocalRuntime } from '../support/runtime.ts';

// The Lambdas log at INFO, as deployed; captured below, never printed.
vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'INFO');
const local = useLocalRuntime();

const logs = useCapturedOutput();

/** Every fixture of the original service that has bytes (an empty file has no base64). */
const names = fixtureExpected()
  .map(([name]) => name)
  .filter((name) => name !== 'zero_bytes.jpg');
const files = names.map((name) => ({ name, bytes: fixtureImage(name), type: 'image/jpeg' }));

/** Several 24-character windows of each image's base64, at each of the three byte
 * alignments (base64 of the same bytes reads differently depending on where it starts). */
const fragments = files.flatMap(({ name, bytes }) =>
  [0, 1, 2].flatMap((shift) => {
    const base64 = bytes.subarray(shift).toString('base64');
    const step = Math.max(24, Math.floor(base64.length / 6));
    const windows: string[] = [];
    for (let at = 12; at + 24 <= base64.length && windows.length < 6; at += step)
      windows.push(base64.slice(at, at + 24));
    return windows.map((w) => ({ name, fragment: w }));
  }),
);

const leaks = (text: string) =>
  fragments.filter(({ fragment }) => text.includes(fragment)).map(({ name }) => name);

describe('no image byte in the workflow or the logs', () => {
  it('has fragments to look for in every image', () => {
    expect(new Set(fragments.map((f) => f.name)).size).toBe(files.length);
    expect(files.length).toBeGreaterThanOrEqual(10);
  });

  it.each([
    ['synchronous', {}],
    ['asynchronous', { Prefer: 'respond-async' }],
  ] as const)('holds for a %s batch of real images', async (_, headers) => {
    logs.length = 0;
    const res = await postImages(`${local.api}/analyze`, files, {}, headers);
    if (res.status === 202) {
      const done = await settled(`${local.api}${res.headers.get('location') ?? ''}`);
      expect(done.body).toMatchObject({ status: 'SUCCEEDED' });
    } else {
      expect(res.status).toBe(200);
    }
    const arn = res.headers.get('x-execution-arn') ?? '';
    const execution = local.runtime.sfn.executions.get(arn);
    if (!execution) throw new Error(`no execution ${arn}`);
    await execution.settled;

    expect(leaks(execution.input)).toEqual([]);
    // The history is there to search: every image's name is in it (its chunk's input and
    // its record), its bytes are not.
    const history = JSON.stringify(execution.history.events);
    for (const { name } of files) expect(history).toContain(name);
    expect(leaks(history)).toEqual([]);
    const lines = logs.join('');
    expect(lines).toContain('chunk analyzed');
    expect(leaks(lines)).toEqual([]);
    // Small and meaningful: names, sizes and keys.
    expect(execution.input).toContain('staging/');
    expect(Buffer.byteLength(execution.input)).toBeLessThan(300 * files.length);
  });

  it('would see a leak: the search finds the fragments in a base64 body', () => {
    const body = files.map((f) => f.bytes.toString('base64')).join('\n');
    expect(new Set(leaks(body)).size).toBe(files.length);
  });
});
