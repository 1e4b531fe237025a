/**
 * Bundles the CLI for the user's own Node (≥ 20, which cannot run TypeScript) into dist/, a
 * git-ignored folder npm's `prepare` step fills at install (`npm ci`, `npm link`). Its libraries
 * are inside: the launcher (bin/image-batch.js) needs nothing else. SigV4 signing (most of the
 * bundle's weight, with the AWS credential chain) is a chunk loaded only for --iam.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { build } from 'esbuild';

const ROOT = path.resolve(import.meta.dirname, '..');
export const CLI_DIST = path.join(ROOT, 'dist');

export const buildCli = async (outdir = CLI_DIST) => {
  await rm(outdir, { recursive: true, force: true });
  await build({
    entryPoints: { 'image-batch': path.join(ROOT, 'cli', 'main.ts') },
    outdir,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    splitting: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    // Bundled CommonJS libraries require() Node built-ins: give each module a require().
    banner: {
      js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
    },
    legalComments: 'none',
    logLevel: 'warning',
  });
  return path.join(outdir, 'image-batch.mjs');
};

if (import.meta.main) {
  console.log(`built ${path.relative(process.cwd(), await buildCli())}`);
}
