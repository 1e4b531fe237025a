/**
 * Differential test: every file of the committed corpus (valid images in every format Pillow 9.4
 * opens, and mutants of them) is analyzed, and its shape and nbytes compared with what the
 * original service answered (recorded by test/fixtures/differential/make_corpus.py).
 * A disagreement fails unless exceptions.json lists it with a reason.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { analyzeImage } from '../../lambdas/analyze/analysis.ts';
import {
  asOriginal,
  CORPUS,
  type CorpusAnswer,
  corpusAnswers,
  corpusBytes,
  isMutant,
} from '../fixtures/differential/corpus.ts';

interface Exception {
  /** A regular expression matched against the corpus path (format/seed.mutation). */
  files: string;
  reason: string;
}

const answers = corpusAnswers();
const exceptions = (
  JSON.parse(readFileSync(path.join(CORPUS, 'exceptions.json'), 'utf8')) as {
    exceptions: Exception[];
  }
).exceptions.map((e) => ({ ...e, pattern: new RegExp(e.files) }));

/** The corpus path is format/seed or format/seed.mutation. */
const formatOf = (file: string) => file.split('/')[0] ?? file;

interface Outcome {
  file: string;
  agrees: boolean;
  ours: { shape: number[]; nbytes: number | [] };
  theirs: { shape: number[]; nbytes: number | [] };
}

/** Runs the analysis two at a time, as a Lambda with two vCPUs would. */
const analyzeAll = async (): Promise<Outcome[]> => {
  const outcomes: Outcome[] = [];
  let next = 0;
  const worker = async () => {
    while (next < answers.length) {
      const answer = answers[next++] as CorpusAnswer;
      const ours = asOriginal(await analyzeImage(corpusBytes(answer.file)));
      const theirs = { shape: answer.shape, nbytes: answer.nbytes };
      outcomes.push({ file: answer.file, agrees: isDeepStrictEqual(ours, theirs), ours, theirs });
    }
  };
  await Promise.all([worker(), worker()]);
  return outcomes.sort((a, b) => a.file.localeCompare(b.file));
};

const percent = (part: number, whole: number) => `${((100 * part) / whole).toFixed(1)} %`;

const agreementTable = (outcomes: Outcome[]) => {
  const rows = new Map<
    string,
    { files: number; agree: number; seeds: number; seedsAgree: number }
  >();
  for (const o of outcomes) {
    const row = rows.get(formatOf(o.file)) ?? { files: 0, agree: 0, seeds: 0, seedsAgree: 0 };
    row.files++;
    if (o.agrees) row.agree++;
    if (!isMutant(o.file)) {
      row.seeds++;
      if (o.agrees) row.seedsAgree++;
    }
    rows.set(formatOf(o.file), row);
  }
  const lines = [
    '| format | files | agreement | unmutated files | agreement |',
    '|---|---|---|---|---|',
  ];
  for (const [format, r] of [...rows].sort()) {
    lines.push(
      `| ${format} | ${r.files} | ${percent(r.agree, r.files)} | ${r.seeds} | ${percent(r.seedsAgree, r.seeds)} |`,
    );
  }
  const agree = outcomes.filter((o) => o.agrees).length;
  lines.push(`| **all** | ${outcomes.length} | ${percent(agree, outcomes.length)} | | |`);
  return lines.join('\n');
};

describe('parity with the original service on the differential corpus', () => {
  let outcomes: Outcome[] = [];
  beforeAll(async () => {
    outcomes = await analyzeAll();
    console.log(`Agreement with Pillow 9.4 by format:\n${agreementTable(outcomes)}`);
  }, 300_000);

  const excused = (file: string) => exceptions.some((e) => e.pattern.test(file));

  it('answers every file as the original did, except the listed exceptions', () => {
    const unexplained = outcomes
      .filter((o) => !o.agrees && !excused(o.file))
      .map(
        (o) => `${o.file}: ours ${JSON.stringify(o.ours)}, original ${JSON.stringify(o.theirs)}`,
      );
    expect(unexplained).toEqual([]);
  });

  it('agrees with the original on at least 99.5 % of the files', () => {
    const agree = outcomes.filter((o) => o.agrees).length;
    expect(agree / outcomes.length).toBeGreaterThanOrEqual(0.995);
  });

  it('lists no exception that no longer disagrees', () => {
    const stale = exceptions
      .filter((e) => !outcomes.some((o) => !o.agrees && e.pattern.test(o.file)))
      .map((e) => e.files);
    expect(stale).toEqual([]);
  });

  it('analyzes every file of the corpus', () => {
    expect(outcomes.length).toBe(answers.length);
    expect(answers.length).toBeGreaterThanOrEqual(5000);
  });
});
