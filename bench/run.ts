/** `npm run bench`: every figure is a ratio against a baseline measured in the same run. */
import os from 'node:os';
import path from 'node:path';
import { startRuntime } from '../local/runtime.ts';
import { benchAnalysis } from './analysis.ts';
import { CURRENT_RUNTIME, checkoutBaseline, INLINE_DESIGN_COMMIT, serve } from './baseline.ts';
import { benchCost } from './cost.ts';
import { benchEndToEnd } from './e2e.ts';
import { benchLargeBatch } from './large-batch.ts';
import { benchReferences } from './references.ts';

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
await benchLargeBatch();

const baseline = await checkoutBaseline();
if (!baseline)
  console.log(`\n(No git history: the inline design ${INLINE_DESIGN_COMMIT} is not measured.)`);
const after = await serve(CURRENT_RUNTIME);
const before = baseline && (await serve(path.join(baseline.dir, 'local', 'runtime.ts')));
try {
  if (before) await benchReferences({ before, after });
  await benchCost({ before, after });
} finally {
  await Promise.all([after.close(), before?.close()]);
  baseline?.remove();
}
// The cost of readable stack traces on a cold first error (bundles the ingest three ways).
await import('./first-error.ts');
