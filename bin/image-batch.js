#!/usr/bin/env node
// The `image-batch` command. Plain JavaScript so that the user's own Node (20 or later, which
// cannot run TypeScript) starts it; the CLI itself is bundled into dist/ at install (npm's
// `prepare` step, or `npm run build:cli`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const major = Number(process.versions.node.split('.')[0]);
if (major < 20) {
  process.stderr.write(`image-batch: needs Node.js 20 or later, not ${process.version}\n`);
  process.exit(2);
}

const bundle = new URL('../dist/image-batch.mjs', import.meta.url);
if (!existsSync(bundle)) {
  process.stderr.write(
    `image-batch: ${fileURLToPath(bundle)} is missing: run \`npm run build:cli\` in the clone\n`,
  );
  process.exit(2);
}

const { run } = await import(bundle.href);
await run();
