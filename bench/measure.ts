/** Tiny timing helpers: a warm-up, then repeated runs until both a count and a time are met. */
export interface Sample {
  runs: number;
  medianMs: number;
  perSecond: number;
}

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
  times.sort((a, b) => a - b);
  const medianMs = times[Math.floor(times.length / 2)] ?? Number.NaN;
  return { runs: times.length, medianMs, perSecond: 1000 / medianMs };
};

export const ratio = (baseline: Sample, candidate: Sample) =>
  baseline.medianMs / candidate.medianMs;

export const fmt = (n: number, digits = 1) => n.toFixed(digits);

/** Measures two workloads in alternation, so that drift (thermal, noisy neighbours, GC) hits
 * both alike: for figures that are differences of two medians. */
export const measurePair = async (
  baseline: () => Promise<unknown>,
  candidate: () => Promise<unknown>,
  { minRuns = 30, minMs = 4000, warmup = 3 } = {},
): Promise<[Sample, Sample]> => {
  for (let i = 0; i < warmup; i++) {
    await baseline();
    await candidate();
  }
  const times: [number[], number[]] = [[], []];
  const start = performance.now();
  while (times[0].length < minRuns || performance.now() - start < minMs) {
    for (const [i, fn] of [baseline, candidate].entries()) {
      const t0 = performance.now();
      await fn();
      times[i as 0 | 1].push(performance.now() - t0);
    }
  }
  const sample = (t: number[]): Sample => {
    t.sort((a, b) => a - b);
    const medianMs = t[Math.floor(t.length / 2)] ?? Number.NaN;
    return { runs: t.length, medianMs, perSecond: 1000 / medianMs };
  };
  return [sample(times[0]), sample(times[1])];
};
