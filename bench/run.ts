/** `npm run bench`: every figure is a ratio against a baseline measured in the same run. */
import os from 'node:os';
import { startRuntime } from '../local/runtime.ts';
import { benchAnalysis } from './analysis.ts';
import {
  CURRENT_RUNTIME,
  checkoutBaseline,
  INLINE_DESIGN_COMMIT,
  PER_IMAGE_DESIGN_COMMIT,
  type Served,
  serve,
} from './baseline.ts';
import { benchCost } from './cost.ts';
import { benchEndToEnd } from './e2e.ts';
import { benchLargeBatch } from './large-batch.ts';
import { benchDesigns, type Design } from './references.ts';

console.log(
  `# Benchmarks — Node ${process.version}, ${os.cpus().length} cores, ${os.cpus()[0]?.model ?? ''}`,
);
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
// The runtimes measured in this process print nothing; those the cost model counts (each in
// its own process, bench/baseline.ts) log and emit their metrics as deployed.
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
await benchAnalysis();
const runtime = await startRuntime({ port: 0, sfnPort: 0, s3Port: 0 });
try {
  await benchEndToEnd(runtime);
} finally {
  await runtime.close();
}
await benchLargeBatch();

// The earlier designs, each from its commit, each in its own process beside this one.
const checkouts = {
  inline: await checkoutBaseline(INLINE_DESIGN_COMMIT),
  perImage: await checkoutBaseline(PER_IMAGE_DESIGN_COMMIT),
};
if (!checkouts.inline || !checkouts.perImage)
  console.log(
    `\n(No git history: the earlier designs ${INLINE_DESIGN_COMMIT} and ${PER_IMAGE_DESIGN_COMMIT} are not measured.)`,
  );
const served: { inline?: Served; perImage?: Served; chunks: Served } = {
  chunks: await serve(CURRENT_RUNTIME),
};
/** An earlier design that no longer starts with today's node_modules (a dependency it
 * imported is gone) is left out, saying so, rather than ending the run. */
const serveEarlier = async (label: string, commit: string, runtime: string) => {
  try {
    return await serve(runtime);
  } catch (error) {
    console.log(`\n(The ${label} design, ${commit}, did not start: ${(error as Error).message}.)`);
    return undefined;
  }
};
try {
  if (checkouts.inline)
    served.inline = await serveEarlier('inline', INLINE_DESIGN_COMMIT, checkouts.inline.runtime);
  if (checkouts.perImage)
    served.perImage = await serveEarlier(
      'per-image',
      PER_IMAGE_DESIGN_COMMIT,
      checkouts.perImage.runtime,
    );
  const designs: Design[] = [
    ...(served.inline ? [{ label: 'inline', apiUrl: served.inline.apiUrl }] : []),
    ...(served.perImage ? [{ label: 'per image', apiUrl: served.perImage.apiUrl }] : []),
    { label: 'chunks', apiUrl: served.chunks.apiUrl },
  ];
  await benchDesigns(designs);
  await benchCost(served);
} finally {
  await Promise.all(Object.values(served).map((s) => s?.close()));
  for (const checkout of Object.values(checkouts)) checkout?.remove();
}
// The cost of readable stack traces on a cold first error (bundles the ingest three ways).
await import('./first-error.ts');
