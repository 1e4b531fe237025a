/** `npm run bench`: every figure is a ratio against a baseline measured in the same run. */
import os from 'node:os';
import { benchAnalysis } from './analysis.ts';

console.log(
  `# Benchmarks — Node ${process.version}, ${os.cpus().length} cores, ${os.cpus()[0]?.model ?? ''}`,
);
await benchAnalysis();
