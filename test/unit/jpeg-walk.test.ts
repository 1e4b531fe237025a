/**
 * The JPEG walker (lambdas/analyze/jpeg-walk.ts) answers "succeeds" without a decode only where
 * the original could not raise, and "fails" only where it raised. Checked against the
 * original's recorded answers: on damaged
 * files made for each of its rules (test/support/jpeg-mutants.ts, answers by
 * fixtures/jpeg-walk/make_answers.ts), and on every JPEG of the differential corpus.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeImage } from '../../lambdas/analyze/analysis.ts';
import { walkJpeg } from '../../lambdas/analyze/jpeg-walk.ts';
import {
  asOriginal,
  corpusAnswers,
  corpusBytes,
  isMutant,
} from '../fixtures/differential/corpus.ts';
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

const ours = async (bytes: Uint8Array, fullDecode = false) =>
  asOriginal(await analyzeImage(bytes, { fullDecode }));

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
        expect(verdict).toEqual({ verdict: 'succeeds' });
      } else {
        expect(verdict.verdict).toBe(walk[0]);
        expect(verdict.verdict === 'succeeds' ? '' : verdict.reason).toMatch(walk[1]);
      }
      // "succeeds" where the original decoded the file, "fails" where it raised.
      if (verdict.verdict === 'succeeds') expect(theirs.shape).not.toEqual([]);
      if (verdict.verdict === 'fails') expect(theirs.shape).toEqual([]);
      const original = { shape: theirs.shape, nbytes: theirs.nbytes };
      expect(answer).toEqual(original);
      // libvips alone (what answers every file the walker leaves "unknown"): a known difference
      // stays listed only while it lasts.
      const viaLibvips = await ours(bytes, true);
      if (libvipsDiffers) expect(viaLibvips, libvipsDiffers).not.toEqual(original);
      else expect(viaLibvips).toEqual(original);
    },
  );
});

describe('the JPEG walker on the differential corpus', () => {
  const jpegs = corpusAnswers()
    .map((answer) => ({ ...answer, bytes: corpusBytes(answer.file) }))
    .filter(({ bytes }) => bytes[0] === 0xff && bytes[1] === 0xd8);

  it('never says "succeeds" for a file the original refused, nor "fails" for one it read', () => {
    const verdicts = jpegs.map((jpeg) => ({ ...jpeg, verdict: walkJpeg(jpeg.bytes).verdict }));
    const passed = verdicts.filter(({ verdict }) => verdict === 'succeeds');
    const failed = verdicts.filter(({ verdict }) => verdict === 'fails');
    expect(passed.filter(({ shape }) => shape.length === 0).map(({ file }) => file)).toEqual([]);
    expect(failed.filter(({ shape }) => shape.length > 0).map(({ file }) => file)).toEqual([]);
    expect(passed.length).toBeGreaterThan(0);
    expect(failed.length).toBeGreaterThan(0);
  });

  it('answers every unmutated corpus JPEG without a decode', () => {
    const seeds = jpegs.filter(({ file }) => !isMutant(file));
    expect(seeds.length).toBeGreaterThanOrEqual(13);
    const left = seeds.filter(({ bytes }) => walkJpeg(bytes).verdict !== 'succeeds');
    expect(left.map(({ file }) => file)).toEqual([]);
  });
});
