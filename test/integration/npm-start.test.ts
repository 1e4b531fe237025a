/**
 * `npm start` as a person runs it: it prints where everything is and the curl line to try,
 * answers that line, and stops cleanly on Ctrl-C (SIGINT to its process group).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../infra/functions.ts';
import { curl } from '../support/http.ts';

// Its state in a folder of its own, not in the checkout's .local/.
const stateDir = mkdtempSync(path.join(os.tmpdir(), 'npm-start-'));
afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

const start = () =>
  spawn('npm', ['start'], {
    cwd: PROJECT_ROOT,
    // Free ports: the defaults may be taken by a developer's own `npm start`.
    env: { ...process.env, PORT: '0', SFN_PORT: '0', S3_PORT: '0', LOCAL_STATE_DIR: stateDir },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });

const printed = (child: ChildProcess, until: string) =>
  new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes(until)) resolve(out);
    });
    child.once('exit', (code) => reject(new Error(`exited ${code} before "${until}":\n${out}`)));
  });

describe('npm start', () => {
  it('prints the URLs and the curl line, answers it, and stops on Ctrl-C', async () => {
    const child = start();
    try {
      const banner = await printed(child, 'Ctrl-C stops.');
      const api = /Image batch API\s+(http:\/\/\S+)/.exec(banner)?.[1];
      expect(api).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(banner).toMatch(/Step Functions \(local\)\s+http:\/\/127\.0\.0\.1:\d+/);
      expect(banner).toContain(`curl "${api}/shape" -F "image=@`);

      const out = await curl(
        `${api}/shape`,
        '-H',
        'Content-Type: multipart/form-data',
        '-F',
        'image=@test/fixtures/images/photo_400x600.jpg',
      );
      expect(JSON.parse(out)).toEqual([[600, 400, 3]]);

      let output = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      const exited = once(child, 'exit');
      process.kill(-(child.pid as number), 'SIGINT');
      const [code, signal] = await exited;
      // npm re-raises the SIGINT once the server has exited, as shells expect of Ctrl-C.
      expect([0, 'SIGINT']).toContain(code ?? signal);
      expect(output).toContain('SIGINT: stopping');
      await expect(fetch(`${api}/shape`, { method: 'POST' })).rejects.toThrow();
    } finally {
      if (child.exitCode === null && child.signalCode === null) {
        process.kill(-(child.pid as number), 'SIGKILL');
      }
    }
  }, 60_000);
});
