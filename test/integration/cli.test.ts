/**
 * `image-batch analyze` as a user runs it: the built launcher on the system Node (20, which
 * cannot run TypeScript), against the local runtime over loopback, reading real files — the
 * oracle fixtures and images encoded by sharp — and, for the terminal, inside tmux.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli } from '../../cli/build.ts';
import { mediaTypeOf } from '../../cli/transports/form.ts';
import {
  cliInTerminal,
  finishCli,
  ROOT,
  SYSTEM_NODE,
  startCli,
  until,
  withoutDecoderDetail,
} from '../support/cli.ts';
import { ORACLE_IMAGES, oracleExpected } from '../support/fixtures.ts';
import { listenOnLoopback, postImages } from '../support/http.ts';
import { useLocalRuntime } from '../support/runtime.ts';

const local = useLocalRuntime();
const ORACLE = path.relative(ROOT, ORACLE_IMAGES);

const start = (args: string[], env: Record<string, string> = {}) => startCli(local.api, args, env);
const cli = (args: string[], env: Record<string, string> = {}) => finishCli(start(args, env));

let work = '';
/** 60 PNGs, i+1 pixels wide: past the 50 a synchronous request takes. */
let sixty = '';

beforeAll(async () => {
  await buildCli();
  work = await mkdtemp(path.join(os.tmpdir(), 'cli-it-'));
  sixty = path.join(work, 'sixty');
  await mkdir(sixty);
  for (let i = 0; i < 60; i++) {
    const png = await sharp({
      create: { width: i + 1, height: 3, channels: 3, background: { r: i, g: 0, b: 0 } },
    })
      .png()
      .toBuffer();
    await sharp(png).toFile(path.join(sixty, `img${i + 1}.png`));
  }
});

afterAll(() => rm(work, { recursive: true, force: true }));

const executionCount = () => local.runtime.sfn.executions.size;

describe('image-batch analyze, piped', () => {
  it(`runs on the system Node (${SYSTEM_NODE})`, () => {
    const version = execFileSync(SYSTEM_NODE, ['--version'], { encoding: 'utf8' });
    expect(Number(/^v(\d+)/.exec(version)?.[1])).toBeGreaterThanOrEqual(20);
  });

  it.each(['shape', 'nbytes', 'analyze'] as const)(
    'answers a folder of fixtures in --view %s as the API does, file by file, in order',
    async (view) => {
      const names = (await readdir(ORACLE_IMAGES)).sort(
        new Intl.Collator('en', { numeric: true }).compare,
      );
      const run = await cli(['analyze', ORACLE, '--view', view]);
      expect(run.code).toBe(0);
      const printed = JSON.parse(run.stdout) as ({ file: string } & Record<string, unknown>)[];
      expect(printed.map((r) => r.file)).toEqual(names.map((n) => `${ORACLE}/${n}`));

      const files = await Promise.all(
        names.map(async (name) => ({
          name,
          bytes: await readFile(path.join(ORACLE_IMAGES, name)),
          type: mediaTypeOf(name),
        })),
      );
      const api = await postImages(`${local.api}/${view}`, files);
      expect(api.status).toBe(200);
      const answers = printed.map(({ file: _file, ...rest }) =>
        view === 'analyze' ? rest : rest[view],
      );
      expect(withoutDecoderDetail(answers)).toEqual(withoutDecoderDetail(api.body));
    },
  );

  it('gives the original service answers for the fixtures', async () => {
    const run = await cli(['analyze', ORACLE, '--view', 'shape', '--format', 'jsonl']);
    const printed = run.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as { file: string; shape: number[] });
    const expected = new Map(oracleExpected());
    expect(printed.length).toBe(expected.size);
    for (const { file, shape } of printed) {
      expect([file, shape]).toEqual([file, expected.get(path.basename(file))?.shape]);
    }
  });

  it('takes the asynchronous route under --async and polls it to the answer', async () => {
    const run = await cli(['analyze', sixty, '--view', 'shape', '--async']);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('/shape (async: 202, then polling)');
    expect(run.stderr).toContain('analysis: SUCCEEDED');
    const id = /analysis: execution (\S+)/.exec(run.stderr)?.[1];
    const arns = [...local.runtime.sfn.executions.keys()];
    expect(arns).toContain(
      `${local.runtime.stateMachineArns.async.replace(':stateMachine:', ':execution:')}:${id}`,
    );
    const printed = JSON.parse(run.stdout) as { file: string; shape: number[] }[];
    expect(printed).toEqual(
      Array.from({ length: 60 }, (_, i) => ({
        file: `${sixty}/img${i + 1}.png`,
        shape: [3, i + 1, 3],
      })),
    );
  });

  it('refuses an image over 50 MB in one line, exit 2, before sending anything', async () => {
    const huge = path.join(work, 'huge.tif');
    // Sparse: 50 MB and one byte of nothing on disk.
    await writeFile(huge, '');
    await truncate(huge, 50 * 1024 * 1024 + 1);
    const before = executionCount();
    const run = await cli(['analyze', sixty, huge]);
    expect(run).toEqual({
      code: 2,
      stdout: '',
      stderr: `image-batch: ${huge} is 52.4 MB: over the 52.4 MB the service takes for one image\n`,
    });
    expect(executionCount()).toBe(before);
  });

  it('passes the service refusal on in one line, exit 2, when --sync forces too many', async () => {
    const run = await cli(['analyze', sixty, '--sync']);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr.trimEnd().split('\n').at(-1)).toMatch(
      /^image-batch: POST \/analyze answered 413 TOO_MANY_IMAGES: /,
    );
  });

  it('exits 2 with the usage line on bad arguments', async () => {
    const run = await cli(['analyze', ORACLE, '--view', 'everything']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error: option '--view <view>' argument 'everything' is invalid/);
    expect(run.stderr).toContain('usage: image-batch analyze [options]');
  });
});

describe('outputs and exit status', () => {
  const three = [`${ORACLE}/png_la.png`, `${ORACLE}/svg_vector.svg`, `${ORACLE}/tiff_rgb.tif`];

  it('prints the same records as JSON lines, CSV and a table', async () => {
    const json = JSON.parse((await cli(['analyze', ...three])).stdout) as Record<string, unknown>[];
    expect(json.map((r) => [r.file, r.shape ?? (r.error as { code: string }).code])).toEqual([
      [three[0], [32, 48, 2]],
      [three[1], 'UNSUPPORTED_FORMAT'],
      [three[2], [32, 48, 3]],
    ]);

    const jsonl = (await cli(['analyze', ...three, '--format', 'jsonl'])).stdout;
    expect(
      jsonl
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l)),
    ).toEqual(json);

    const csv = (await cli(['analyze', ...three, '--format', 'csv'])).stdout.split('\r\n');
    expect(csv).toHaveLength(4);
    expect(csv[1]).toMatch(new RegExp(`^${three[0]},"\\[32,48,2\\]",3.072,png,`));
    expect(csv[2]).toMatch(/,UNSUPPORTED_FORMAT,"Not a supported image; [^"]*"$/);

    const table = (await cli(['analyze', ...three, '--format', 'table'])).stdout.split('\n');
    expect(table[0]).toMatch(/^file\s+shape\s+size \(kB\)\s+format\s+error$/);
    expect(table[2]).toMatch(/png_la\.png\s+\[32,48,2\]\s+3\.072\s+png$/);
    expect(table[3]).toMatch(/svg_vector\.svg\s+UNSUPPORTED_FORMAT$/);
  });

  it('exits 1 with --fail-on-unreadable when an image is unreadable, 0 otherwise', async () => {
    expect((await cli(['analyze', ...three, '--fail-on-unreadable'])).code).toBe(1);
    expect((await cli(['analyze', ...three])).code).toBe(0);
    const readable = [three[0] ?? '', three[2] ?? ''];
    expect((await cli(['analyze', ...readable, '--fail-on-unreadable'])).code).toBe(0);
  });
});

/** A service that takes the upload and then keeps the client waiting: `handle` answers or not. */
const standIn = async (handle: (req: http.IncomingMessage, res: http.ServerResponse) => void) => {
  const requests: {
    method: string;
    url: string;
    headers: http.IncomingHttpHeaders;
    closedEarly: boolean;
  }[] = [];
  const server = http.createServer((req, res) => {
    const seen = {
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      closedEarly: false,
    };
    requests.push(seen);
    res.on('close', () => {
      seen.closedEarly = !res.writableFinished;
    });
    req.resume();
    req.on('end', () => handle(req, res));
  });
  const { url, close } = await listenOnLoopback(server);
  return {
    url,
    requests,
    close,
  };
};

describe('Ctrl-C', () => {
  it('ends a synchronous run with 130 and one line, its request aborted', async () => {
    const service = await standIn(() => undefined);
    try {
      const child = start(['analyze', ORACLE, '--api', service.url]);
      const done = finishCli(child);
      await until('the upload', () => service.requests.length === 1);
      child.kill('SIGINT');
      const run = await done;
      expect(run.code).toBe(130);
      expect(run.stderr.trimEnd().split('\n').at(-1)).toBe('image-batch: interrupted');
      expect(run.stdout).toBe('');
      await until('the connection to close', () => service.requests[0]?.closedEarly === true);
    } finally {
      await service.close();
    }
  });

  it('names the asynchronous run it leaves running, which it cannot stop', async () => {
    const service = await standIn((req, res) => {
      res.setHeader('content-type', 'application/json');
      if (req.method === 'POST') {
        res.writeHead(202, { location: '/executions/run-1' });
        res.end(JSON.stringify({ executionId: 'run-1', status: 'RUNNING' }));
      } else {
        res.writeHead(200, { 'retry-after': '1' });
        res.end(JSON.stringify({ executionId: 'run-1', status: 'RUNNING' }));
      }
    });
    try {
      const child = start(['analyze', ORACLE, '--async', '--api', service.url]);
      const done = finishCli(child);
      await until('a poll', () => service.requests.some((r) => r.method === 'GET'));
      child.kill('SIGINT');
      const run = await done;
      expect(run.code).toBe(130);
      expect(run.stderr.trimEnd().split('\n').at(-1)).toBe(
        `image-batch: interrupted; execution run-1 (${service.url}/executions/run-1) goes on in the service`,
      );
    } finally {
      await service.close();
    }
  });
});

describe('on a terminal (tmux)', () => {
  let terminal: ReturnType<typeof cliInTerminal> | undefined;
  const runInTerminal = (args: string[]) => {
    terminal = cliInTerminal(path.join(work, `tmux-${Date.now()}`), args);
  };
  const screen = () => terminal?.screen() ?? '';
  const tmux = (...args: string[]) => terminal?.tmux(...args) ?? '';
  const stopTerminal = () => {
    terminal?.stop();
    terminal = undefined;
  };
  afterAll(stopTerminal);

  it('shows the upload and analysis bars, then the table', async () => {
    runInTerminal(['analyze', ORACLE, '--api', local.api]);
    await until('the run to end', () => /exit=\d+/.test(screen()));
    const lines = screen().split('\n');
    stopTerminal();
    const upload = lines.find((l) => l.startsWith('upload'));
    const analysis = lines.find((l) => l.startsWith('analysis'));
    expect(upload).toMatch(/^upload\s+█{30} 100% \| 31\/31 images \| \d+ kB of \d+ kB$/);
    expect(analysis).toMatch(/^analysis █{30} 100% \| 31\/31 images \| done in \d+\.\d s$/);
    const header = lines.findIndex((l) => /^file\s+shape\s+size \(kB\)\s+format\s+error$/.test(l));
    expect(header).toBeGreaterThan(lines.indexOf(analysis ?? ''));
    expect(lines[header + 2]).toMatch(
      /^test\/fixtures\/oracle\/images\/bmp_bilevel\.bmp\s+\[32,48\]\s+1\.536\s+bmp$/,
    );
    expect(lines).toContain('exit=0');
  });

  it('restores the cursor and exits 130 on Ctrl-C', async () => {
    const service = await standIn(() => undefined);
    try {
      runInTerminal(['analyze', ORACLE, '--api', service.url]);
      await until('the upload', () => service.requests.length === 1);
      expect(tmux('display', '-p', '-t', 'cli', '#{cursor_flag}').trim()).toBe('0');
      tmux('send-keys', '-t', 'cli', 'C-c');
      await until('the run to end', () => /exit=\d+/.test(screen()));
      const text = screen();
      expect(text).toContain('image-batch: interrupted');
      expect(text).toContain('exit=130');
      expect(tmux('display', '-p', '-t', 'cli', '#{cursor_flag}').trim()).toBe('1');
    } finally {
      stopTerminal();
      await service.close();
    }
  });
});

describe('auth for a deployed stack', () => {
  const answerShapes = (_req: http.IncomingMessage, res: http.ServerResponse) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify([[32, 48, 2]]));
  };

  it('sends --api-key as x-api-key', async () => {
    const service = await standIn(answerShapes);
    try {
      const run = await cli([
        'analyze',
        `${ORACLE}/png_la.png`,
        '--api',
        `${service.url}/prod`,
        '--api-key',
        'k-123',
        '--view',
        'shape',
      ]);
      expect(run.code).toBe(0);
      expect(service.requests.map((r) => [r.url, r.headers['x-api-key']])).toEqual([
        ['/prod/shape', 'k-123'],
      ]);
    } finally {
      await service.close();
    }
  });

  it('signs with SigV4 under --iam, credentials from the environment', async () => {
    const service = await standIn(answerShapes);
    try {
      const run = await cli(
        [
          'analyze',
          `${ORACLE}/png_la.png`,
          '--api',
          `${service.url}/prod`,
          '--iam',
          '--view',
          'shape',
        ],
        {
          AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
          AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
          AWS_REGION: 'eu-west-1',
          // A profile, if the developer has one set, would take precedence over the environment.
          AWS_PROFILE: '',
        },
      );
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout)).toEqual([
        { file: `${ORACLE}/png_la.png`, shape: [32, 48, 2] },
      ]);
      expect(service.requests[0]?.headers.authorization).toMatch(
        /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=[a-z0-9;-]*host[a-z0-9;-]*, Signature=[0-9a-f]{64}$/,
      );
    } finally {
      await service.close();
    }
  });
});
