/**
 * Bundles the CLI for the user's own Node (≥ 20, which cannot run TypeScript) into dist/, a
 * git-ignored folder npm's `prepare` step fills at install (`npm ci`, `npm link`). One file, its
 * libraries inside: the launcher (bin/image-batch.js) needs nothing else.
 */
import path from 'node:path';
import { build } from 'esbuild';

const ROOT = path.resolve(import.meta.dirname, '..');
export const CLI_BUNDLE = path.join(ROOT, 'dist', 'image-batch.mjs');

export const buildCli = async (outfile = CLI_BUNDLE) => {
  await build({
    entryPoints: [path.join(ROOT, 'cli', 'main.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    // Bundled CommonJS libraries require() Node built-ins: give the module a require().
    banner: {
      js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
    },
    minify: false,
    sourcemap: false,
    legalComments: 'none',
    logLevel: 'warning',
  });
  return outfile;
};

if (import.meta.main) {
  console.log(`built ${path.relative(process.cwd(), await buildCli())}`);
}
