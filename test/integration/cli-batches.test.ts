/**
 * `image-batch analyze` on the large-batch route (`/batches`): sets past one request's limits
 * declared, uploaded straight to the local S3 by presigned POST forms, followed through the Map
 * Run and paged back — the built launcher on the system Node, against `npm start` over
 * loopback, with real files (8×8 PNGs and JPEGs made by sharp, and the project's fixtures).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli } from '../../cli/build.ts';
import { mediaTypeOf } from '../../cli/transports/form.ts';
import { LOCAL_S3_CREDENTIALS } from '../../local/s3.ts';
import {
  cliInTerminal,
  finishCli,
  ROOT,
  startCli,
  until,
  withoutDecoderDetail,
} from '../support/cli.ts';
import { FIXTURE_IMAGES, fixtureExpected } from '../support/fixtures.ts';
import { listenOnLoopback, postImages } from '../support/http.ts';

const BUCKET = 'image-batch-staging';

let service: ChildProcess | undefined;
let api = '';
let s3: S3Client;
let work = '';
/** 2,000 files: sharp-made 8×8 images and, every 100th, one of the fixtures. */
let large = '';
let largeFiles: string[] = [];
const LARGE = 2000;

/** `npm start` on free ports, as a user runs it, its state in the test's own folder (not the
 * checkout's .local/). */
const startService = async () => {
  const child = spawn('npm', ['start'], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: '0',
      SFN_PORT: '0',
      S3_PORT: '0',
      LOCAL_STATE_DIR: path.join(work, 'state'),
    },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  service = child;
  child.stderr?.resume();
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('Ctrl-C stops.')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`npm start exited ${code}:\n${out}`)));
  });
  api = /Image batch API\s+(http:\/\/\S+)/.exec(out)?.[1] ?? '';
  const s3Url = /S3 \(local\)\s+(http:\/\/\S+)/.exec(out)?.[1] ?? '';
  s3 = new S3Client({
    endpoint: s3Url,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: LOCAL_S3_CREDENTIALS,
  });
};

const stopService = async () => {
  const child = service;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  // Ctrl-C to its process group, as a user stops it; its state goes with the test's folder.
  process.kill(-(child.pid as number), 'SIGINT');
  await exited;
};

const FIXTURES = fixtureExpected()
  .map(([name]) => name)
  .filter((name) => name !== 'rgb_4000x3000.jpg');

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'cli-batches-'));
  await Promise.all([buildCli(), startService()]);
  large = path.join(work, 'large');
  await mkdir(large);
  for (let i = 0; i < LARGE; i++) {
    const name = String(i).padStart(4, '0');
    if (i % 100 === 50) {
      const fixture = FIXTURES[Math.floor(i / 100) % FIXTURES.length] ?? '';
      const file = `${name}-${fixture}`;
      await copyFile(path.join(FIXTURE_IMAGES, fixture), path.join(large, file));
      largeFiles.push(file);
      continue;
    }
    const image = sharp({
      create: {
        width: 8,
        height: 8,
        channels: i % 3 === 0 ? 4 : 3,
        background: { r: i % 256, g: Math.floor(i / 256) * 30, b: 99, alpha: 0.5 },
      },
    });
    const file = `${name}.${i % 2 ? 'jpg' : 'png'}`;
    await (i % 2 ? image.jpeg() : image.png()).toFile(path.join(large, file));
    largeFiles.push(file);
  }
  largeFiles = largeFiles.map((f) => `${large}/${f}`);
}, 180_000);

afterAll(async () => {
  await stopService();
  await rm(work, { recursive: true, force: true });
});

const start = (args: string[]) => startCli(api, args);
const cli = (args: string[]) => finishCli(start(args));

/** What the synchronous route answers for these files, 50 a request, as the CLI names them. */
const answersOf = async (view: string, files: string[]) => {
  const answers: unknown[] = [];
  for (let at = 0; at < files.length; at += 50) {
    const chunk = await Promise.all(
      files.slice(at, at + 50).map(async (file) => ({
        name: path.basename(file),
        bytes: await readFile(file),
        type: mediaTypeOf(file),
      })),
    );
    const answer = await postImages(`${api}/${view}`, chunk);
    expect(answer.status).toBe(200);
    answers.push(...(answer.body as unknown[]));
  }
  return answers;
};

const uploadsLeft = async (batchId: string) =>
  (
    await s3.send(
      new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `batches/${batchId}/uploads/` }),
    )
  ).KeyCount;

describe('a large set, piped', () => {
  it('carries 2,000 images through /batches and prints what the API answers for each, in order', async () => {
    const run = await cli(['analyze', large, '--fail-on-unreadable', '--concurrency', '16']);
    // Some fixtures are unreadable (a truncated JPEG, text named .jpg, an empty file).
    expect(run.code).toBe(1);
    const lines = run.stderr.trimEnd().split('\n');
    expect(lines[0]).toMatch(
      new RegExp(
        `^uploading 2000 images \\(\\d+ kB\\) to ${api}/batches \\(large batch: uploads straight to S3\\)$`,
      ),
    );
    expect(lines).toContain(lines.find((l) => /^uploaded 2000 images in \d+\.\d s$/.test(l)));
    const batchId = /^analysis: batch (\S+) /m.exec(run.stderr)?.[1] ?? '';
    expect(lines).toContain(`analysis: batch ${batchId} (${api}/batches/${batchId})`);
    expect(lines.at(-2)).toBe('analysis: SUCCEEDED');
    expect(lines.at(-1)).toMatch(/^analyzed 2000 images in \d+\.\d s, [1-9]\d* unreadable$/);

    const printed = JSON.parse(run.stdout) as ({ file: string } & Record<string, unknown>)[];
    expect(printed.map((r) => r.file)).toEqual(largeFiles);
    expect(printed.map((r) => r.index)).toEqual([...Array(LARGE).keys()]);
    // The sync route numbers images within its request and names their form field; the rest
    // of each record is the same.
    const expected = (await answersOf('analyze', largeFiles)).map((record) => {
      const { index: _, name: __, ...rest } = record as Record<string, unknown>;
      return rest;
    });
    const got = printed.map(({ file: _, index: __, name: ___, ...rest }) => rest);
    expect(withoutDecoderDetail(got)).toEqual(withoutDecoderDetail(expected));
    expect(got.filter((r) => r.error).length).toBeGreaterThan(0);

    expect(await uploadsLeft(batchId)).toBe(0);
  }, 600_000);

  it('takes a set past 50 images through /batches unasked and keeps the order given', async () => {
    // 60 files named in reverse, the unreadable fixtures among them: the arguments' order rules.
    const unreadable = ['truncated_jpeg.jpg', 'text_pretending.jpg', 'zero_bytes.jpg'].map(
      (name) => largeFiles.find((f) => f.endsWith(name)) ?? name,
    );
    const files = [...largeFiles.slice(0, 57), ...unreadable].reverse();
    const run = await cli(['analyze', ...files, '--view', 'shape']);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(`to ${api}/batches (large batch: uploads straight to S3)`);
    const printed = JSON.parse(run.stdout) as { file: string; shape: number[] }[];
    const shapes = await answersOf('shape', files);
    expect(printed).toEqual(files.map((file, i) => ({ file, shape: shapes[i] })));
    expect(printed.some((r) => r.shape.length === 0)).toBe(true);
  }, 120_000);
});

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

/** A stand-in for the API and S3 in one server: POST /batches gives forms that post back to it,
 * `upload` decides what S3 says to them and `other` answers the rest. */
const standIn = async (
  upload: (res: http.ServerResponse) => void,
  other: Handler = (_req, res) => res.writeHead(404).end(),
) => {
  const requests: { method: string; url: string; closedEarly: boolean }[] = [];
  const batchId = '0b5c1f7e-2b9a-4c1e-9d55-6a4f0f1d2e3c';
  const server = http.createServer((req, res) => {
    const seen = { method: req.method ?? '', url: req.url ?? '', closedEarly: false };
    requests.push(seen);
    res.on('close', () => {
      seen.closedEarly = !res.writableFinished;
    });
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString();
    });
    req.on('end', () => {
      if (req.url === '/batches') {
        const { images } = JSON.parse(body) as { images: unknown[] };
        res.writeHead(201, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            batchId,
            expiresAt: new Date(Date.now() + 900_000).toISOString(),
            uploads: images.map((_, index) => ({
              index,
              url: `${url}/s3`,
              fields: { key: `batches/${batchId}/uploads/${index}`, 'Content-Type': 'image/png' },
            })),
            nextUploads: null,
            start: `/batches/${batchId}/start`,
          }),
        );
      } else if (req.url === '/s3') {
        upload(res);
      } else {
        other(req, res);
      }
    });
  });
  const { url, close } = await listenOnLoopback(server);
  return {
    url,
    batchId,
    requests,
    close,
  };
};

const answerJson = (res: http.ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

describe('a deployment with lower limits than the published ones', () => {
  it('sends a set its sync route refuses with 413 through /batches instead', async () => {
    const files = largeFiles.slice(0, 3);
    let fake: Awaited<ReturnType<typeof standIn>> | undefined;
    fake = await standIn(
      (res) => res.writeHead(204).end(),
      (req, res) => {
        const self = `/batches/${fake?.batchId}`;
        if (req.url === '/shape') {
          answerJson(res, 413, {
            error: { code: 'TOO_MANY_IMAGES', message: 'At most 2 images.', limit: 2 },
          });
        } else if (req.url === `${self}/start`) {
          answerJson(res, 202, { batchId: fake?.batchId, status: 'RUNNING' });
        } else if (req.url === self) {
          answerJson(res, 200, {
            status: 'SUCCEEDED',
            progress: { total: 3, succeeded: 3, failed: 0, notUploaded: 0 },
          });
        } else if (req.url === `${self}/results?limit=1000&cursor=0`) {
          answerJson(res, 200, {
            items: [
              [8, 8, 4],
              [8, 8, 3],
            ],
            nextCursor: '2',
          });
        } else if (req.url === `${self}/results?limit=1000&cursor=2`) {
          answerJson(res, 200, { items: [[8, 8, 3]], nextCursor: null });
        } else {
          res.writeHead(404).end();
        }
      },
    );
    try {
      const run = await cli(['analyze', ...files, '--view', 'shape', '--api', fake.url]);
      expect(run.stderr).toContain(`to ${fake.url}/batches (large batch`);
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout)).toEqual([
        { file: files[0], shape: [8, 8, 4] },
        { file: files[1], shape: [8, 8, 3] },
        { file: files[2], shape: [8, 8, 3] },
      ]);
      expect(fake.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
        'POST /shape',
        'POST /batches',
        'POST /s3',
        'POST /s3',
        'POST /s3',
        `POST /batches/${fake.batchId}/start`,
        `GET /batches/${fake.batchId}`,
        `GET /batches/${fake.batchId}/results?limit=1000&cursor=0`,
        `GET /batches/${fake.batchId}/results?limit=1000&cursor=2`,
      ]);
    } finally {
      await fake.close();
    }
  });
});

describe('when the uploads do not go through', () => {
  it('stops uploading on Ctrl-C, cancels the batch (DELETE), exits 130 and says what it deleted', async () => {
    const child = start(['analyze', large, '--batch', '--concurrency', '2']);
    const done = finishCli(child);
    let batchId = '';
    await until('an upload in the local S3', async () => {
      const listed = await s3.send(
        new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'batches/' }),
      );
      const uploaded = (listed.Contents ?? []).find(
        (o) =>
          /\/uploads\/\d+$/.test(o.Key ?? '') &&
          // Not a batch an earlier test left (the 2,000 were analyzed, or are being).
          !listed.Contents?.some((c) => c.Key === `${o.Key?.split('/uploads/')[0]}/manifest.jsonl`),
      );
      batchId = uploaded?.Key?.split('/')[1] ?? '';
      return batchId !== '';
    });
    child.kill('SIGINT');
    const run = await done;
    expect(run.code).toBe(130);
    expect(run.stdout).toBe('');
    const last = run.stderr.trimEnd().split('\n').at(-1) ?? '';
    const said =
      /^image-batch: interrupted; batch (\S+) was cancelled: (\d+) uploaded images? deleted$/.exec(
        last,
      );
    expect(said, last).not.toBeNull();
    expect(said?.[1]).toBe(batchId);
    expect(Number(said?.[2])).toBeGreaterThan(0);
    // Nothing of the batch is left but the mark that it was cancelled; it cannot be started.
    const left = await s3.send(
      new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `batches/${batchId}/` }),
    );
    expect(left.Contents?.map((o) => o.Key)).toEqual([`batches/${batchId}/cancelled.json`]);
    const restart = await fetch(`${api}/batches/${batchId}/start`, { method: 'POST' });
    expect(restart.status).toBe(410);
  });

  it('names the batch it leaves to the lifecycle rule when the API cannot cancel it', async () => {
    // An API from before DELETE /batches/{id}: its 405.
    const fake = await standIn(
      () => undefined,
      (req, res) =>
        req.method === 'DELETE'
          ? answerJson(res, 405, { error: { code: 'METHOD_NOT_ALLOWED', message: 'GET only' } })
          : res.writeHead(404).end(),
    );
    try {
      const child = start(['analyze', large, '--batch', '--api', fake.url]);
      const done = finishCli(child);
      await until('the uploads', () => fake.requests.filter((r) => r.url === '/s3').length === 8);
      child.kill('SIGINT');
      const run = await done;
      expect(run.code).toBe(130);
      expect(run.stdout).toBe('');
      expect(run.stderr.trimEnd().split('\n').at(-1)).toMatch(
        new RegExp(
          `^image-batch: interrupted; batch ${fake.batchId} was not started, and could not be cancelled \\(DELETE /batches/${fake.batchId} answered 405 .*\\): its 0 uploaded images stay in the staging bucket until its lifecycle rule removes them \\(a day\\)$`,
        ),
      );
      await until('the uploads to be cut', () =>
        fake.requests.filter((r) => r.url === '/s3').every((r) => r.closedEarly),
      );
      expect(fake.requests.filter((r) => r.url === '/s3')).toHaveLength(8);
      expect(fake.requests.some((r) => r.url.endsWith('/start'))).toBe(false);
      expect(fake.requests.filter((r) => r.method === 'DELETE').map((r) => r.url)).toEqual([
        `/batches/${fake.batchId}`,
      ]);
    } finally {
      await fake.close();
    }
  });

  it('ends in one line, exit 2, with what S3 said, when it refuses an upload, and cancels the batch', async () => {
    const fake = await standIn(
      (res) => {
        res.writeHead(403, { 'content-type': 'application/xml' });
        res.end(
          '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Invalid according to Policy: Policy Condition failed: ["eq", "$Content-Type", "image/png"]</Message></Error>',
        );
      },
      (req, res) =>
        req.method === 'DELETE'
          ? answerJson(res, 200, { status: 'CANCELLED', deleted: 0, complete: true })
          : res.writeHead(404).end(),
    );
    try {
      const run = await cli(['analyze', largeFiles[0] ?? '', '--batch', '--api', fake.url]);
      expect(run.code).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr.trimEnd().split('\n').at(-1)).toBe(
        `image-batch: uploading ${largeFiles[0]}: S3 answered 403 AccessDenied: Invalid according to Policy: Policy Condition failed: ["eq", "$Content-Type", "image/png"]; batch ${fake.batchId} was cancelled: 0 uploaded images deleted`,
      );
      expect(fake.requests.filter((r) => r.method === 'DELETE').map((r) => r.url)).toEqual([
        `/batches/${fake.batchId}`,
      ]);
    } finally {
      await fake.close();
    }
  });

  it('sends DELETE again while the API answers 202, and adds up what each one deleted', async () => {
    let deletes = 0;
    const fake = await standIn(
      (res) => res.writeHead(500).end(),
      (req, res) => {
        if (req.method !== 'DELETE') return res.writeHead(404).end();
        deletes += 1;
        // As a batch of 20,005 objects would answer: 10,000 a request.
        if (deletes < 3)
          return answerJson(res, 202, { status: 'CANCELLED', deleted: 10_000, complete: false });
        answerJson(res, 200, { status: 'CANCELLED', deleted: 5, complete: true });
      },
    );
    try {
      const run = await cli(['analyze', largeFiles[0] ?? '', '--batch', '--api', fake.url]);
      expect(run.code).toBe(2);
      expect(run.stderr.trimEnd().split('\n').at(-1)).toMatch(
        new RegExp(`; batch ${fake.batchId} was cancelled: 20005 uploaded images deleted$`),
      );
      expect(deletes).toBe(3);
    } finally {
      await fake.close();
    }
  });
});

describe('on a terminal (tmux)', () => {
  let terminal: ReturnType<typeof cliInTerminal> | undefined;
  afterAll(() => terminal?.stop());

  it('shows the upload bar in images and bytes, the analysis bar, then the table', async () => {
    const files = largeFiles.slice(0, 300);
    const listed = path.join(work, 'three-hundred');
    await mkdir(listed);
    for (const file of files) await copyFile(file, path.join(listed, path.basename(file)));
    terminal = cliInTerminal(path.join(work, 'tmux'), ['analyze', listed, '--api', api]);
    const { screen } = terminal;
    let seen = '';
    await until(
      'the run to end',
      () => {
        // From the start of the scrollback: the 300-line table pushes the bars off the screen.
        seen = screen(true);
        return /exit=\d+/.test(seen);
      },
      120_000,
    );
    const lines = seen.split('\n');
    const upload = lines.find((l) => l.startsWith('upload'));
    const analysis = lines.find((l) => l.startsWith('analysis'));
    expect(upload).toMatch(/^upload\s+█{30} 100% \| 300\/300 images \| \d+ kB of \d+ kB$/);
    expect(analysis).toMatch(/^analysis █{30} 100% \| 300\/300 images \| done in \d+\.\d s$/);
    const header = lines.findIndex((l) => /^file\s+shape\s+size \(kB\)\s+format\s+error$/.test(l));
    expect(header).toBeGreaterThan(lines.indexOf(analysis ?? ''));
    expect(lines).toContain('exit=0');
  }, 150_000);
});
