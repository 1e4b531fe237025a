/**
 * The console at the local Step Functions address, end to end: `npm start`'s runtime on free
 * ports, batches posted to the API as a client would, and the pages opened in headless
 * Chromium (Debian's, driven by playwright-core) — a click on a state shows its output.
 * Screenshots land in test-results/ (git-ignored) for a person to look at.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3Client } from '../../lambdas/shared/clients.ts';
import { loadDefinition } from '../../statemachine/definition.ts';
import { postImages } from '../support/http.ts';
import { useLocalRuntime } from '../support/runtime.ts';
import { chunkedInput } from '../support/workflow-input.ts';

const local = useLocalRuntime();
const RESULTS = path.resolve(import.meta.dirname, '../../test-results');

/** Real images, encoded by sharp: their shapes are what the workflow must report. */
const image = (width: number, height: number, channels: 3 | 4, format: 'png' | 'jpeg') =>
  sharp({ create: { width, height, channels, background: { r: 40, g: 120, b: 200, alpha: 1 } } })
    .toFormat(format)
    .toBuffer();

let browser: BrowserContext;
let userDataDir: string;

beforeAll(async () => {
  userDataDir = mkdtempSync(path.join(os.tmpdir(), 'console-chromium-'));
  browser = await chromium.launchPersistentContext(userDataDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1400, height: 1000 },
  });
  mkdirSync(RESULTS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
});

const runArn = (headers: Headers) => {
  const arn = headers.get('x-execution-arn');
  if (!arn) throw new Error('the API answered without X-Execution-Arn');
  return arn;
};
const runUrl = (arn: string, page = '/execution') =>
  `${local.runtime.sfnUrl}${page}?arn=${encodeURIComponent(arn)}`;

const open = async (url: string): Promise<Page> => {
  const page = await browser.newPage();
  await page.goto(url);
  return page;
};

describe('the console in a browser', () => {
  it('lists a synchronous batch, opens it, and shows the output of a clicked state', async () => {
    const files = [
      { name: 'wide.png', bytes: await image(64, 48, 3, 'png') },
      { name: 'alpha.png', bytes: await image(20, 30, 4, 'png') },
      { name: 'photo.jpg', bytes: await image(80, 60, 3, 'jpeg') },
    ];
    const answer = await postImages(`${local.api}/shape`, files);
    expect(answer.body).toEqual([
      [48, 64, 3],
      [30, 20, 4],
      [60, 80, 3],
    ]);
    const arn = runArn(answer.headers);

    const page = await open(local.runtime.sfnUrl);
    const row = page.locator('tr', { has: page.locator(`a[href*="${encodeURIComponent(arn)}"]`) });
    await expect(row.textContent()).resolves.toContain('SUCCEEDED');
    await row.locator('a').first().click();
    await page.waitForURL(/\/execution\?arn=/);
    expect(await page.locator('h1').textContent()).toContain('SUCCEEDED');

    // Three small images are one chunk: one iteration, whose Task is colored as succeeded.
    const map = page.locator('.state[data-state="Analyze each chunk"]');
    expect(await map.textContent()).toContain('1 iteration: 1 succeeded');
    const task = page.locator('.state[data-state="Analyze chunk"]');
    expect(await task.getAttribute('class')).toContain('s-succeeded');

    await task.click();
    const panel = page.locator('#panel');
    await panel.locator('h3', { hasText: 'Analyze chunk' }).waitFor();
    // The iteration's output is its chunk's records, one per image in upload order.
    const output = await panel.locator('pre.json').nth(1).textContent();
    expect(JSON.parse(output ?? '')).toMatchObject([
      { index: 0, shape: [48, 64, 3] },
      { index: 1, shape: [30, 20, 4] },
      { index: 2, shape: [60, 80, 3] },
    ]);

    // The last state's output is the workflow's: the request and what /shape renders of each
    // image, nothing more.
    await page.locator('.state[data-state="Discard staged images"]').click();
    await panel.locator('h3', { hasText: 'Discard staged images' }).waitFor();
    const collected = await panel.locator('pre.json').nth(1).textContent();
    expect(JSON.parse(collected ?? '')).toEqual({
      request: { view: 'shape', multipart: true },
      results: [
        { index: 0, shape: [48, 64, 3] },
        { index: 1, shape: [30, 20, 4] },
        { index: 2, shape: [60, 80, 3] },
      ],
    });

    await page.screenshot({ path: path.join(RESULTS, 'console-run.png'), fullPage: true });

    // The event table loads when opened, with AWS's event types.
    await page.locator('#events > summary').click();
    await page
      .locator('#events')
      .getByRole('cell', { name: 'ExecutionStarted', exact: true })
      .waitFor();
    expect(await page.locator('#events tbody tr').count()).toBeGreaterThan(10);
    await page.close();
  });

  it('lists the iterations of a 100-chunk run a page at a time, in pages that stay small', async () => {
    // A request's images are cut into at most eight chunks, too few to page: this run's input
    // is made here, 100 chunks of one real image each, staged in the local S3 as the ingest
    // stages a request's images.
    const bytes = await image(12, 10, 3, 'png');
    const staged = { bucket: local.runtime.stagingBucket, key: `staging/${randomUUID()}/images` };
    const sizes = Array.from({ length: 100 }, () => bytes.length);
    await createS3Client(local.runtime.clientOptions.s3).send(
      new PutObjectCommand({
        Bucket: staged.bucket,
        Key: staged.key,
        Body: Buffer.concat(sizes.map(() => bytes)),
      }),
    );
    const input = chunkedInput({ staged, sizes, chunks: sizes.map(() => 1) });
    const execution = local.runtime.sfn.start(
      local.runtime.stateMachineArns.async,
      JSON.stringify(input),
    );
    await execution.settled;
    expect(execution.status).toBe('SUCCEEDED');
    const arn = execution.executionArn;
    const run = await fetch(runUrl(arn));
    const html = await run.text();
    expect(run.status).toBe(200);
    // The 100 chunks and their 700 events are a click away, not in the page.
    expect(Buffer.byteLength(html)).toBeLessThan(48_000);
    expect(html).toContain('100 iterations: 100 succeeded');

    const page = await open(runUrl(arn));
    // The panel shows one iteration at a time: the second chunk's is the second image's record.
    await page.locator('.state[data-state="Analyze chunk"]').click();
    const panel = page.locator('#panel');
    await panel.locator('h3', { hasText: 'Analyze chunk' }).waitFor();
    await panel.locator('input[name="iteration"]').fill('1');
    await panel.locator('button', { hasText: 'Show' }).click();
    await panel.locator('input[name="iteration"][value="1"]').waitFor();
    const second = await panel.locator('pre.json').nth(1).textContent();
    expect(JSON.parse(second ?? '')).toMatchObject([{ index: 1, shape: [10, 12, 3] }]);

    await page.locator('a', { hasText: 'Analyze each chunk' }).first().click();
    await page.waitForURL(/\/map\?/);
    expect(await page.locator('tbody tr').count()).toBe(50);
    expect(await page.locator('tbody tr').first().textContent()).toContain('SUCCEEDED');
    await page.locator('a', { hasText: 'Next →' }).click();
    await page.waitForURL(/offset=50/);
    expect(await page.locator('tbody tr').first().locator('td').first().textContent()).toBe('50');
    await page.screenshot({ path: path.join(RESULTS, 'console-map.png') });
    await page.close();
  });

  it('follows a running execution until it ends, without a reload', async () => {
    const machine = local.runtime.sfn.createStateMachine({
      name: 'ConsoleWaits',
      type: 'STANDARD',
      definition: JSON.stringify({
        StartAt: 'Wait a moment',
        States: {
          'Wait a moment': { Type: 'Wait', Seconds: 3, Next: 'Done' },
          Done: { Type: 'Pass', End: true },
        },
      }),
    });
    const run = local.runtime.sfn.start(machine.arn, '{}');
    const page = await open(runUrl(run.executionArn));
    expect(await page.locator('h1 .badge').textContent()).toBe('RUNNING');
    expect(
      await page.locator('.state[data-state="Wait a moment"]').getAttribute('class'),
    ).toContain('s-running');
    await page.locator('.state[data-state="Wait a moment"]').click();
    await page.locator('#panel h3', { hasText: 'Wait a moment' }).waitFor();
    // The page refreshes itself: the same page object, never navigated again.
    await page.locator('h1 .badge', { hasText: 'SUCCEEDED' }).waitFor({ timeout: 15_000 });
    expect(await page.locator('.state[data-state="Done"]').getAttribute('class')).toContain(
      's-succeeded',
    );
    // The state the reader had selected stays selected, its panel up to date.
    expect(await page.locator('.state.selected').getAttribute('data-state')).toBe('Wait a moment');
    await page.locator('#panel .badge', { hasText: 'SUCCEEDED' }).waitFor();
    await page.close();
  });

  // The engine serves Map Runs (DescribeMapRun), as AWS's console reads them.
  it("opens a Distributed Map's Map Run and one of its child executions", async () => {
    const machine = local.runtime.sfn.createStateMachine({
      name: 'ConsoleDistributed',
      type: 'STANDARD',
      definition: JSON.stringify({
        StartAt: 'Each item',
        States: {
          'Each item': {
            Type: 'Map',
            ItemsPath: '$.items',
            Label: 'Items',
            MaxConcurrency: 4,
            ItemProcessor: {
              ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
              StartAt: 'Work',
              States: { Work: { Type: 'Pass', End: true } },
            },
            End: true,
          },
        },
      }),
    });
    const items = Array.from({ length: 30 }, (_, i) => ({ i }));
    const run = local.runtime.sfn.start(machine.arn, JSON.stringify({ items }));
    await run.settled;
    const page = await open(runUrl(run.executionArn));
    const map = page.locator('.state[data-state="Each item"]');
    expect(await map.textContent()).toContain('30 items: 30 succeeded');
    expect(await page.locator('.state[data-state="Work"]').textContent()).toContain(
      'runs in child executions',
    );
    await page.locator('a[href^="/map-run"]').first().click();
    await page.waitForURL(/\/map-run\?/);
    expect(await page.locator('h1').textContent()).toContain('SUCCEEDED');
    expect(await page.locator('tbody tr').count()).toBe(25);
    await page.screenshot({ path: path.join(RESULTS, 'console-map-run.png') });
    await page.locator('tbody tr a').first().click();
    await page.waitForURL(/\/execution\?/);
    expect(await page.locator('h1').textContent()).toContain('SUCCEEDED');
    expect(await page.locator('.state[data-state="Work"]').getAttribute('class')).toContain(
      's-succeeded',
    );
    await page.close();
  });

  it('filters the runs list by type and status', async () => {
    const page = await open(local.runtime.sfnUrl);
    await page.screenshot({ path: path.join(RESULTS, 'console-list.png') });
    await page.selectOption('select[name="type"]', 'EXPRESS');
    await page.locator('button', { hasText: 'Filter' }).click();
    await page.waitForURL(/type=EXPRESS/);
    const types = await page.locator('tbody tr td:nth-child(4)').allTextContents();
    expect(types.length).toBeGreaterThan(0);
    expect(new Set(types)).toEqual(new Set(['EXPRESS']));
    await page.selectOption('select[name="status"]', 'FAILED');
    await page.locator('button', { hasText: 'Filter' }).click();
    await page.waitForURL(/status=FAILED/);
    expect(await page.locator('tbody tr').count()).toBe(0);
    await page.close();
  });
});

describe('the console over HTTP', () => {
  it('shows a long string by its real length, in the input and in the event details', async () => {
    const note = 'x'.repeat(5000);
    const res = await fetch(local.runtime.sfnUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'AWSStepFunctions.StartExecution',
      },
      body: JSON.stringify({
        stateMachineArn: local.runtime.stateMachineArns.async,
        input: JSON.stringify({ request: { view: 'shape', multipart: true }, chunks: [], note }),
      }),
    });
    const { executionArn } = (await res.json()) as { executionArn: string };
    await local.runtime.sfn.executions.get(executionArn)?.settled;
    const runPage = await (await fetch(runUrl(executionArn))).text();
    expect(runPage).toContain('[5,000 characters]');
    const events = await (await fetch(runUrl(executionArn, '/fragment/events'))).text();
    expect(events).toContain('[5,000 characters]');
    expect(events).not.toMatch(/\[\d{1,2} characters\]/);
  });

  it('colors caught and failed states, and lists iteration errors', async () => {
    // The project's workflow pointed at a function that does not exist: the local Lambda
    // integration answers Lambda.ResourceNotFoundException, which the Catch turns into records.
    const missing = 'arn:aws:lambda:us-east-1:000000000000:function:does-not-exist';
    const sfn = local.runtime.sfn;
    const caughtMachine = sfn.createStateMachine({
      name: 'ConsoleCaught',
      type: 'STANDARD',
      definition: loadDefinition({ AnalyzeFunctionArn: missing }),
    });
    // Two chunks: two iterations, each caught.
    const staged = { bucket: local.runtime.stagingBucket, key: 'staging/console/images' };
    const input = chunkedInput({ staged, sizes: [0, 0], chunks: [1, 1] });
    const caught = sfn.start(caughtMachine.arn, JSON.stringify(input));
    await caught.settled;
    expect(caught.status).toBe('SUCCEEDED');
    const { results } = JSON.parse(caught.output ?? '') as { results: { error: object }[] };
    expect(results.map((r) => r.error)).toMatchObject([
      { code: 'ANALYSIS_FAILED', retryable: false },
      { code: 'ANALYSIS_FAILED', retryable: false },
    ]);
    const page = await (await fetch(runUrl(caught.executionArn))).text();
    expect(page).toMatch(/class="state s-caught"[^>]*data-state="Analyze chunk"/);
    expect(page).toMatch(/class="state s-succeeded"[^>]*data-state="Record analysis failure"/);
    const iterations = await (
      await fetch(
        `${runUrl(caught.executionArn, '/map')}&state=${encodeURIComponent('Analyze each chunk')}`,
      )
    ).text();
    expect(
      iterations.match(/Lambda\.ResourceNotFoundException<\/strong> \(caught\)/g),
    ).toHaveLength(2);
    expect(iterations + page).not.toContain('[object Object]');

    // Without a Catch, the failure fails the Map and the run.
    const failingMachine = sfn.createStateMachine({
      name: 'ConsoleFailed',
      type: 'STANDARD',
      definition: JSON.stringify({
        StartAt: 'Each',
        States: {
          Each: {
            Type: 'Map',
            ItemsPath: '$.items',
            ItemProcessor: {
              StartAt: 'Call',
              States: {
                Call: {
                  Type: 'Task',
                  Resource: 'arn:aws:states:::lambda:invoke',
                  Parameters: { FunctionName: missing, 'Payload.$': '$' },
                  End: true,
                },
              },
            },
            End: true,
          },
        },
      }),
    });
    const failed = sfn.start(failingMachine.arn, JSON.stringify({ items: [1] }));
    await failed.settled;
    const failedPage = await (await fetch(runUrl(failed.executionArn))).text();
    expect(failedPage).toContain('<span class="badge b-failed">FAILED</span>');
    expect(failedPage).toMatch(/class="state s-failed container"[^>]*data-state="Each"/);
    expect(failedPage).toMatch(/class="state s-failed"[^>]*data-state="Call"/);
    const listed = await (await fetch(`${local.runtime.sfnUrl}/?status=FAILED`)).text();
    expect(listed).toContain(encodeURIComponent(failed.executionArn));
    expect(listed).not.toContain(encodeURIComponent(caught.executionArn));
  });

  it('answers an unknown run with a 404 page, and keeps the AWS protocol on POST', async () => {
    const missing = await fetch(runUrl('arn:aws:states:us-east-1:000000000000:execution:X:nope'));
    expect(missing.status).toBe(404);
    expect(await missing.text()).toContain('Not found');
    const list = await fetch(local.runtime.sfnUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'AWSStepFunctions.ListStateMachines',
      },
      body: '{}',
    });
    const { stateMachines } = (await list.json()) as { stateMachines: { name: string }[] };
    expect(stateMachines.map((m) => m.name)).toContain('ImageBatchAsync');
  });
});
