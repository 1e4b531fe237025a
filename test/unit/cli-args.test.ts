/** The command line itself: bad arguments end with exit status 2, one line and the usage. */
import { once } from 'node:events';
import net, { type AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { main } from '../../cli/main.ts';
import { ORACLE_IMAGES } from '../support/fixtures.ts';

const stream = () => {
  const s = new PassThrough();
  let text = '';
  s.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  return { s, text: () => text };
};

const cli = async (args: string[], env: Record<string, string> = {}) => {
  const stdout = stream();
  const stderr = stream();
  const code = await main(args, {
    stdout: stdout.s,
    stderr: stderr.s,
    env,
    cwd: ORACLE_IMAGES,
    interrupt: new AbortController().signal,
  });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
};

const USAGE = /^usage: image-batch analyze \[options\] <files, folders or globs\.\.\.>/m;

describe('image-batch arguments', () => {
  it.each([
    [[], 'the analyze command missing'],
    [['analyse', 'png_la.png'], 'an unknown command'],
    [['analyze'], 'no paths'],
    [['analyze', 'png_la.png', '--view', 'colour'], 'an unknown view'],
    [['analyze', 'png_la.png', '--format', 'xml'], 'an unknown format'],
    [['analyze', 'png_la.png', '--sync', '--async'], 'both routes forced'],
    [['analyze', 'png_la.png', '--async', '--batch'], 'two routes forced'],
    [['analyze', 'png_la.png', '--batch', '--sync'], 'two routes forced, in the other order'],
    [['analyze', 'png_la.png', '--concurrency', '0'], 'a concurrency of 0'],
    [['analyze', 'png_la.png', '--bogus'], 'an unknown option'],
    [['analyze', 'missing.png'], 'a missing file'],
    [['analyze', 'png_la.png', '--api', 'ftp://example.com'], 'a non-HTTP API URL'],
  ])('exits 2 with the usage line for %j (%s)', async (args) => {
    const { code, stdout, stderr } = await cli(args);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(USAGE);
  });

  it('says what is wrong in one line before the usage', async () => {
    const { stderr } = await cli(['analyze', 'png_la.png', '--concurrency', 'many']);
    expect(stderr.split('\n')).toEqual([
      "error: option '--concurrency <n>' argument 'many' is invalid. expected a whole number from 1 to 256.",
      expect.stringMatching(USAGE),
      '',
    ]);
  });

  it('asks --iam for a region when the URL does not name one', async () => {
    const { code, stderr } = await cli(['analyze', 'png_la.png', '--iam', '--api', 'https://x.io']);
    expect(code).toBe(2);
    expect(stderr).toContain('--iam needs the API region');
  });

  it('prints the help on stdout and exits 0', async () => {
    const { code, stdout } = await cli(['analyze', '--help']);
    expect(code).toBe(0);
    for (const option of [
      '--api <url>',
      '--view <view>',
      '--format <format>',
      '--sync',
      '--async',
    ]) {
      expect(stdout).toContain(option);
    }
    expect(stdout).toContain('--fail-on-unreadable');
  });

  it('exits 2 with one line when the API cannot be reached', async () => {
    // A port that was free a moment ago: nothing listens there.
    const server = net.createServer().listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    server.close();
    const { code, stderr } = await cli(['analyze', 'png_la.png'], {
      IMAGE_BATCH_API: `http://127.0.0.1:${port}`,
    });
    expect(code).toBe(2);
    expect(stderr.trimEnd().split('\n').at(-1)).toBe(
      `image-batch: cannot reach http://127.0.0.1:${port} (ECONNREFUSED)`,
    );
  });
});
