/** `npm run bench`: every figure is a ratio against a baseline measured in the same run. */
import os from 'node:os';
import { startRuntime } from '../local/runtime.ts';
import { benchAnalysis } from './analysis.ts';
import { benchEndToEnd } from './e2e.ts';

console.log(
  `# Benchmarks — Node ${process.version}, ${os.cpus().length} cores, ${os.cpus()[0]?.model ?? ''}`,
);
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
await benchAnalysis();
const runtime = await startRuntime({ port: 0, sfnPort: 0, s3Port: 0 });
try {
  await benchEndToEnd(runtime);
} finally {
  await runtime.close();
}
