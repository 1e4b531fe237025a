/**
 * The JPEG walker (lambdas/analyze/jpeg-walk.ts) answers "succeeds" without a decode only where
 * the original could not raise. Checked against the original's recorded answers: on damaged
 * files made for each of its rules (test/support/jpeg-mutants.ts, answers by
 * fixtures/jpeg-walk/make_answers.ts), and on every JPEG of the differential corpus.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeImage } from '../../lambdas/analyze/analysis.ts';
import { walkJpeg } from '../../lambdas/analyze/jpeg-walk.ts';
import { isFailure } from '../../lambdas/shared/types.ts';
import { JPEG_WALK_FIXTURES, jpegMutants } from '../support/jpeg-mutants.ts';

interface Answer {
  sha256?: string;
  file?: string;
  shape: number[];
  nbytes: number | [];
}

const recorded = (
  JSON.parse(readFileSync(path.join(JPEG_WALK_FIXTURES, 'answers.json'), 'utf8')) as {
    answers: Record<string, Answer>;
  }
).answers;

const ours = async (bytes: Uint8Array) => {
  const analysis = await analyzeImage(bytes);
  return isFailure(analysis)
    ? { shape: [], nbytes: [] }
    : { shape: analysis.shape, nbytes: analysis.nbytes };
};

const mutants = jpegMutants();

describe('the JPEG walker on damaged files', () => {
  it('has the original answer recorded for exactly these files', () => {
    expect(Object.keys(recorded).sort()).toEqual(mutants.map((m) => m.name).sort());
    for (const { name, bytes } of mutants)
      expect(createHash('sha256').update(bytes).digest('hex'), name).toBe(recorded[name]?.sha256);
  });

  it.each(mutants.map((m) => [m.name, m] as const))(
    'decides "%s" by the rule it is made for, and answers it as the original did',
    async (name, { bytes, walk, libvipsDiffers }) => {
      const theirs = recorded[name] as Answer;
      const verdict = walkJpeg(bytes);
      const answer = await ours(bytes);
      if (walk === 'succeeds') {
        expect(verdict).toEqual({ succeeds: true });
        // Where the walker says "succeeds", the original must have decoded the file.
        expect(theirs.shape).not.toEqual([]);
      } else {
        expect(verdict.succeeds).toBe(false);
        expect(verdict.succeeds ? '' : verdict.reason).toMatch(walk);
      }
      const original = { shape: theirs.shape, nbytes: theirs.nbytes };
      // A known difference of the libvips path stays listed only while it lasts.
      if (libvipsDiffers) expect(answer, libvipsDiffers).not.toEqual(original);
      else expect(answer).toEqual(original);
    },
  );
});

describe('the JPEG walker on the differential corpus', () => {
  const dir = path.resolve(import.meta.dirname, '../fixtures/differential');
  const jpegs = readFileSync(path.join(dir, 'answers.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => JSON.parse(line) as Answer & { file: string })
    .map((answer) => ({ ...answer, bytes: readFileSync(path.join(dir, 'corpus', answer.file)) }))
    .filter(({ bytes }) => bytes[0] === 0xff && bytes[1] === 0xd8);

  it('never says "succeeds" for a file the original refused', () => {
    const passed = jpegs.filter(({ bytes }) => walkJpeg(bytes).succeeds);
    console.log(
      `JPEG walker: ${passed.length} of ${jpegs.length} corpus JPEGs answered without a decode`,
    );
    expect(passed.filter(({ shape }) => shape.length === 0).map(({ file }) => file)).toEqual([]);
    expect(passed.length).toBeGreaterThan(0);
  });

  it('answers every unmutated corpus JPEG without a decode', () => {
    const seeds = jpegs.filter(({ file }) => !(file.split('/')[1] ?? '').includes('.'));
    expect(seeds.length).toBeGreaterThanOrEqual(13);
    expect(seeds.filter(({ bytes }) => !walkJpeg(bytes).succeeds).map(({ file }) => file)).toEqual(
      [],
    );
  });
});
