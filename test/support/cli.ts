/**
 * The built CLI as a user runs it, for the integration tests: the launcher in bin/ on the
 * system Node (which cannot run TypeScript), its output collected, and the waits around it.
 */
import { type ChildProcessByStdio, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const LAUNCHER = path.join(ROOT, 'bin', 'image-batch.js');

/** The first `node` on PATH that is not the project's own (node_modules/.bin, Node 24). */
export const SYSTEM_NODE =
  execFileSync('which', ['-a', 'node'], { encoding: 'utf8' })
    .split('\n')
    .find((p) => p && !p.includes('node_modules')) ?? process.execPath;

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export type CliProcess = ChildProcessByStdio<null, Readable, Readable>;

/** Starts `image-batch <args>` against `api` (IMAGE_BATCH_API); `env` adds to or overrides it. */
export const startCli = (api: string, args: string[], env: Record<string, string> = {}) =>
  spawn(SYSTEM_NODE, [LAUNCHER, ...args], {
    cwd: ROOT,
    env: { ...process.env, IMAGE_BATCH_API: api, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });

/** Everything the CLI wrote and its exit code, once it has closed its streams. */
export const finishCli = async (child: CliProcess): Promise<CliRun> => {
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stdout, stderr };
};

/** libvips keeps one error buffer per process, so the decoder's own words in parentheses
 * after a CORRUPT_IMAGE message vary from run to run ("libpng read error", "Unknown error")
 * and may be another decode's; the code and the message before them are the contract. */
export const withoutDecoderDetail = (records: unknown) =>
  JSON.parse(JSON.stringify(records).replace(/ \([^()"]*\)\."/g, '."'));

/** Polls `check` every 50 ms until it holds; throws naming `what` after `ms`. */
export const until = async (what: string, check: () => boolean | Promise<boolean>, ms = 20_000) => {
  for (const deadline = Date.now() + ms; Date.now() < deadline; await sleep(50)) {
    if (await check()) return;
  }
  throw new Error(`timed out waiting for ${what}`);
};

const quote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;

/**
 * `image-batch <args>` in a detached 140×50 tmux terminal, its server on `socket`. The shell
 * prints `exit=<status>` after it and stays, so the screen can still be read; it traps Ctrl-C,
 * so that reaches the CLI alone and the status reported is the CLI's own.
 */
export const cliInTerminal = (socket: string, args: string[]) => {
  const tmux = (...rest: string[]) =>
    execFileSync('tmux', ['-S', socket, ...rest], { encoding: 'utf8' });
  const command = [SYSTEM_NODE, LAUNCHER, ...args].map(quote).join(' ');
  const script = `trap true INT; ${command}; echo "exit=$?"; sleep 60`;
  tmux('new-session', '-d', '-s', 'cli', '-x', '140', '-y', '50', '-c', ROOT, 'bash', '-c', script);
  return {
    tmux,
    /** What the terminal shows; with `scrollback`, everything it has shown since the start. */
    screen: (scrollback = false) =>
      tmux('capture-pane', '-p', ...(scrollback ? ['-S', '-'] : []), '-t', 'cli'),
    stop: () => {
      tmux('kill-server');
    },
  };
};
