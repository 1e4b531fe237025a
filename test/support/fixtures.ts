import { readFileSync } from 'node:fs';
import path from 'node:path';

/** Our test images and the original algorithm's answers (test/fixtures/images/make_images.py). */
export const FIXTURE_IMAGES = path.resolve(import.meta.dirname, '../fixtures/images');
/** Edge cases answered by the same oracle (see test/fixtures/oracle/make_fixtures.py). */
export const ORACLE_IMAGES = path.resolve(import.meta.dirname, '../fixtures/oracle/images');

export interface Expected {
  bytes: number;
  shape: number[];
  nbytes: number | [];
  mode?: string;
}

const loadExpected = (file: string): [string, Expected][] =>
  Object.entries(
    (JSON.parse(readFileSync(file, 'utf8')) as { images: Record<string, Expected> }).images,
  );

export const fixtureExpected = () => loadExpected(path.join(FIXTURE_IMAGES, 'expected.json'));
export const oracleExpected = () => loadExpected(path.join(ORACLE_IMAGES, '..', 'expected.json'));

export const fixtureImage = (name: string): Buffer => readFileSync(path.join(FIXTURE_IMAGES, name));
export const oracleImage = (name: string): Buffer => readFileSync(path.join(ORACLE_IMAGES, name));

/** The original's answer for one image, in the form /shape and /nbytes return it. */
export const originalAnswer = (expected: Expected) => ({
  shape: expected.shape,
  nbytes: expected.nbytes,
});
