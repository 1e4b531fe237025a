/**
 * Analysis cost: images/second of analyzeImage (shrink-on-load validation) against the same
 * analysis validated by a full-size raw decode, measured in the same run, answers compared.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { analyzeImage } from '../lambdas/analyze/analysis.ts';
import { FIXTURE_IMAGES, fixtureExpected } from '../test/support/fixtures.ts';
import { fmt, measure, ratio } from './measure.ts';

export const benchAnalysis = async () => {
  const files = fixtureExpected().map(([name]) => name);
  const images = files.map((f) => readFileSync(path.join(FIXTURE_IMAGES, f)));
  const big = readFileSync(path.join(FIXTURE_IMAGES, 'rgb_4000x3000.jpg'));

  for (const [i, image] of images.entries()) {
    const fast = await analyzeImage(image);
    const full = await analyzeImage(image, { fullDecode: true });
    if (!isDeepStrictEqual(fast, full)) throw new Error(`answers differ for ${files[i]}`);
  }

  const everyImage = (fullDecode: boolean) => () =>
    Promise.all(images.map((image) => analyzeImage(image, { fullDecode })));
  const setFull = await measure(everyImage(true));
  const setFast = await measure(everyImage(false));
  const bigFull = await measure(() => analyzeImage(big, { fullDecode: true }));
  const bigFast = await measure(() => analyzeImage(big));

  const perSet = (s: { perSecond: number }) => fmt(s.perSecond * images.length);
  console.log(`\n## Analysis (answers identical for all ${images.length} fixtures)`);
  console.log('| workload | full decode (baseline) | shrink-on-load | ratio |');
  console.log('|---|---|---|---|');
  console.log(
    `| fixture set, images/s | ${perSet(setFull)} | ${perSet(setFast)} | ${fmt(ratio(setFull, setFast))}× |`,
  );
  console.log(
    `| 12 MP JPEG, images/s | ${fmt(bigFull.perSecond)} | ${fmt(bigFast.perSecond)} | ${fmt(ratio(bigFull, bigFast))}× |`,
  );
  return { bigJpegRatio: ratio(bigFull, bigFast), fixtureSetRatio: ratio(setFull, setFast) };
};
