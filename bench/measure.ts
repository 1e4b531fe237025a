/** Tiny timing helpers: a warm-up, then repeated runs until both a count and a time are met. */
export interface Sample {
  runs: number;
  medianMs: number;
  perSecond: number;
}

/** The middle value (the upper one of an even count); NaN when there is none. */
export const median = (xs: number[]) =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

const sampleOf = (times: number[]): Sample => {
  const medianMs = median(times);
  return { runs: times.length, medianMs, perSecond: 1000 / medianMs };
};

export const measure = async (
  fn: () => Promise<unknown>,
  { minRuns = 10, minMs = 1500, warmup = 2 } = {},
): Promise<Sample> => {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < minRuns || performance.now() - start < minMs) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return sampleOf(times);
};

export const ratio = (baseline: Sample, candidate: Sample) =>
  baseline.medianMs / candidate.medianMs;

export const fmt = (n: number, digits = 1) => n.toFixed(digits);

/** Measures workloads in alternation, so that drift (thermal, noisy neighbours, GC) hits
 * them alike: for figures that are ratios or differences of medians. */
export const measureAll = async (
  workloads: (() => Promise<unknown>)[],
  { minRuns = 30, minMs = 4000, warmup = 3 } = {},
): Promise<Sample[]> => {
  for (let i = 0; i < warmup; i++) for (const fn of workloads) await fn();
  const times: number[][] = workloads.map(() => []);
  const start = performance.now();
  while ((times[0]?.length ?? 0) < minRuns || performance.now() - start < minMs) {
    for (const [i, fn] of workloads.entries()) {
      const t0 = performance.now();
      await fn();
      times[i]?.push(performance.now() - t0);
    }
  }
  return times.map(sampleOf);
};

/** Two workloads in alternation (see measureAll). */
export const measurePair = async (
  baseline: () => Promise<unknown>,
  candidate: () => Promise<unknown>,
  options: { minRuns?: number; minMs?: number; warmup?: number } = {},
): Promise<[Sample, Sample]> => {
  const [a, b] = await measureAll([baseline, candidate], options);
  if (!a || !b) throw new Error('two workloads, two samples');
  return [a, b];
};
