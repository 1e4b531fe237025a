/**
 * The designs before this one, runnable beside it in the same benchmark run: a commit of
 * this repository's history checked out into a temporary directory whose node_modules links
 * this checkout's packages (plus, installed beside them, any the commit needs that this one
 * dropped), and served by bench/serve.ts in its own process. Without git history (a tarball),
 * the comparisons are skipped, not invented.
 */
import { execFile, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..');

/** The last commit of the inline design (images as base64 in the execution input). */
export const INLINE_DESIGN_COMMIT = 'c0058f5';
/** The last commit of references with one Map iteration (one invocation, one GET) per image,
 * before chunks. */
export const PER_IMAGE_DESIGN_COMMIT = '9823c0e';

export interface Served {
  apiUrl: string;
  /** Sends a command (`usage`, `reset`) and returns its JSON answer. */
  ask: <T>(command: string) => Promise<T>;
  close: () => Promise<void>;
}

/** Starts `runtimePath`'s runtime in a child process (bench/serve.ts). */
export const serve = async (runtimePath: string): Promise<Served> => {
  const child = spawn(process.execPath, [path.join(ROOT, 'bench', 'serve.ts'), runtimePath], {
    env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'INFO', POWERTOOLS_METRICS_DISABLED: 'false' },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async <T>() => {
    const { value, done } = await lines.next();
    if (done) throw new Error(`${runtimePath}: the runtime exited`);
    return JSON.parse(value) as T;
  };
  const { apiUrl } = await next<{ apiUrl: string }>();
  return {
    apiUrl,
    ask: async <T>(command: string) => {
      child.stdin.write(`${command}\n`);
      return next<T>();
    },
    close: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.stdin.write('close\n');
      await exited;
    },
  };
};

/**
 * The checkout's node_modules: a link to each of this checkout's packages, and the packages
 * the commit declares that this checkout no longer has (`bmp-ts` before it was dropped),
 * installed from the registry into the checkout itself.
 */
const linkPackages = async (dir: string) => {
  const modules = path.join(dir, 'node_modules');
  mkdirSync(modules);
  for (const name of readdirSync(path.join(ROOT, 'node_modules')))
    symlinkSync(path.join(ROOT, 'node_modules', name), path.join(modules, name));
  const manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
    devDependencies?: Record<string, string>;
  };
  const missing = Object.entries({ ...manifest.dependencies, ...manifest.devDependencies })
    .filter(([name]) => !existsSync(path.join(modules, name)))
    .map(([name, range]) => `${name}@${range}`);
  if (missing.length === 0) return;
  const prefix = path.join(dir, '.missing');
  await run('npm', [
    'install',
    '--prefix',
    prefix,
    '--no-save',
    '--no-audit',
    '--no-fund',
    '--ignore-scripts',
    ...missing,
  ]);
  for (const name of readdirSync(path.join(prefix, 'node_modules')))
    if (!name.startsWith('.') && !existsSync(path.join(modules, name)))
      symlinkSync(path.join(prefix, 'node_modules', name), path.join(modules, name));
};

/** A commit's files in a temporary directory, or undefined without git history. */
export const checkoutBaseline = async (
  commit: string,
): Promise<{ dir: string; runtime: string; remove: () => void } | undefined> => {
  try {
    await run('git', ['cat-file', '-e', `${commit}^{commit}`], { cwd: ROOT });
  } catch {
    return undefined;
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), `image-batch-${commit}-`));
  await run('sh', ['-c', `git archive ${commit} | tar -x -C "${dir}"`], { cwd: ROOT });
  await linkPackages(dir);
  return {
    dir,
    runtime: path.join(dir, 'local', 'runtime.ts'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
};

export const CURRENT_RUNTIME = path.join(ROOT, 'local', 'runtime.ts');
