/**
 * One real synth, bundling included (esbuild, locally): the analysis asset must carry sharp's
 * linux-arm64 binaries — the Lambda's platform, not this machine's — and nothing that never
 * loads; the bundles must be readable without source maps; and `npx cdk synth` must work
 * from cdk.json with no AWS account.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT, SHARP_ARM64_PACKAGE } from '../../infra/functions.ts';
import { DEFAULT_STAGE, stackNameFor } from '../../infra/settings.ts';
import { createS3Client } from '../../lambdas/shared/clients.ts';
import type { MapItem } from '../../lambdas/shared/workflow.ts';
import { LOCAL_S3_CREDENTIALS, startLocalS3 } from '../../local/s3.ts';
import { lambdaContext, restEvent } from '../support/events.ts';
import { fixtureImage } from '../support/fixtures.ts';
import { logicalId, synth } from './synth.ts';

const ELF_MACHINE_AARCH64 = 183;
/** e_machine of an ELF file: which CPU it is built for. */
const elfMachine = (file: string) => {
  const header = readFileSync(file).subarray(0, 20);
  expect(header.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
  return header.readUInt16LE(18);
};

const assetDirOf = (assemblyDir: string, template: object, logicalId: string) => {
  const fn = (
    template as { Resources: Record<string, { Properties: { Code: { S3Key: string } } }> }
  ).Resources[logicalId];
  const hash = fn?.Properties.Code.S3Key.replace(/\.zip$/, '');
  return path.join(assemblyDir, `asset.${hash}`);
};

describe('bundling', () => {
  it('ships sharp for linux-arm64 in the analysis function, and bundles the ingest alone', async () => {
    const { stack, assembly, template } = synth({ bundle: true });
    const json = template.toJSON();
    const analyze = assetDirOf(assembly.directory, json, logicalId(stack.functions.analyze));
    const ingest = assetDirOf(assembly.directory, json, logicalId(stack.functions.ingest));

    expect(existsSync(path.join(analyze, 'index.mjs'))).toBe(true);
    const binding = path.join(analyze, 'node_modules', SHARP_ARM64_PACKAGE, 'lib');
    const [node] = readdirSync(binding).filter((f) => f.endsWith('.node'));
    expect(node).toMatch(/^sharp-linux-arm64/);
    expect(elfMachine(path.join(binding, node ?? ''))).toBe(ELF_MACHINE_AARCH64);
    const libvips = path.join(analyze, 'node_modules', '@img', 'sharp-libvips-linux-arm64', 'lib');
    const [so] = readdirSync(libvips).filter((f) => f.startsWith('libvips-cpp.so'));
    expect(elfMachine(path.join(libvips, so ?? ''))).toBe(ELF_MACHINE_AARCH64);
    // This machine's build must not ride along.
    expect(existsSync(path.join(analyze, 'node_modules', '@img', 'sharp-linux-x64'))).toBe(false);

    // Nothing that never loads: no C++ sources, typings, CommonJS build of sharp, headers.
    const shipped = readdirSync(path.join(analyze, 'node_modules'), { recursive: true }).map(
      String,
    );
    expect(shipped.filter((f) => /\.(cc|h|gyp|d\.ts|d\.mts|d\.cts)$/.test(f))).toEqual([]);
    expect(shipped.filter((f) => f.startsWith('sharp/dist/') && f.endsWith('.cjs'))).toEqual([]);
    expect(shipped).toContain('sharp/dist/index.mjs');
    expect(shipped).toContain('sharp/LICENSE');
    // One semver: the one sharp needs in node_modules, which the bundle imports too.
    expect(shipped).toContain('semver/package.json');
    const analyzeCode = readFileSync(path.join(analyze, 'index.mjs'), 'utf8');
    expect(analyzeCode).not.toContain('// node_modules/semver/');
    expect(analyzeCode).toMatch(/require\("semver"\)/);

    // Readable without source maps: not minified, our files named, no map shipped.
    expect(readdirSync(ingest)).toEqual(['index.mjs']);
    const ingestCode = readFileSync(path.join(ingest, 'index.mjs'), 'utf8');
    expect(ingestCode).toContain('// lambdas/ingest/ingest.ts');
    // keepNames: a function keeps its own name in traces even where esbuild renames it.
    expect(ingestCode).toContain('"resolveRoute")');
    expect(ingestCode).not.toContain('sourceMappingURL');
    expect(analyzeCode).toContain('// lambdas/analyze/analysis.ts');

    // The analysis bundle with its pruned node_modules, this machine's sharp binaries in
    // place of the arm64 ones: it must load sharp and semver from there and answer a Map item.
    const x64 = mkdtempSync(path.join(os.tmpdir(), 'analyze-x64-'));
    try {
      cpSync(path.join(analyze, 'index.mjs'), path.join(x64, 'index.mjs'));
      cpSync(path.join(analyze, 'node_modules'), path.join(x64, 'node_modules'), {
        recursive: true,
      });
      const img = path.join(x64, 'node_modules', '@img');
      rmSync(path.join(img, 'sharp-linux-arm64'), { recursive: true });
      rmSync(path.join(img, 'sharp-libvips-linux-arm64'), { recursive: true });
      const own = path.join(PROJECT_ROOT, 'node_modules', '@img');
      for (const pkg of readdirSync(own).filter((p) => p.startsWith('sharp-')))
        cpSync(path.join(own, pkg), path.join(img, pkg), { recursive: true });
      // The item points into a staged object, read from a local S3 as the deployed function
      // reads the bucket (its endpoint from the standard variable: no AWS call is made).
      const store = await startLocalS3({ host: '127.0.0.1', port: 0, bucket: 'staging' });
      try {
        const photo = fixtureImage('photo_400x600.jpg');
        const object = { bucket: 'staging', key: 'staging/e/images' };
        Object.assign(process.env, {
          AWS_ENDPOINT_URL_S3: store.url,
          AWS_REGION: 'us-east-1',
          AWS_ACCESS_KEY_ID: LOCAL_S3_CREDENTIALS.accessKeyId,
          AWS_SECRET_ACCESS_KEY: LOCAL_S3_CREDENTIALS.secretAccessKey,
        });
        await createS3Client().send(
          new PutObjectCommand({ Bucket: object.bucket, Key: object.key, Body: photo }),
        );
        const { handler } = await import(pathToFileURL(path.join(x64, 'index.mjs')).href);
        const item: MapItem = {
          index: 0,
          name: 'image',
          filename: 'photo_400x600.jpg',
          contentType: 'image/jpeg',
          size: photo.length,
          object,
          offset: 0,
          deadline: null,
        };
        expect(await handler(item, lambdaContext())).toMatchObject({
          shape: [600, 400, 3],
          nbytes: 720,
        });
      } finally {
        await store.close();
      }
    } finally {
      rmSync(x64, { recursive: true, force: true });
    }

    // The ingest bundle has no native code: it loads and answers here as on Lambda.
    Object.assign(process.env, {
      SYNC_STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:000000000000:stateMachine:S',
      ASYNC_STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:000000000000:stateMachine:A',
      STAGING_BUCKET: 'b',
      AWS_REGION: 'us-east-1',
    });
    const { handler } = await import(pathToFileURL(path.join(ingest, 'index.mjs')).href);
    const res = await handler(restEvent({ method: 'GET', path: '/nowhere' }), lambdaContext());
    expect(res.statusCode).toBe(404);
    expect(JSON.parse(res.body).error.code).toBe('NOT_FOUND');
  }, 120_000);

  it('works through `npx cdk synth` with cdk.json and no AWS account', async () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'cdk-synth-'));
    try {
      const bin = path.join(PROJECT_ROOT, 'node_modules', '.bin');
      await promisify(execFile)(path.join(bin, 'cdk'), ['synth', '--quiet', '--output', out], {
        cwd: PROJECT_ROOT,
        env: {
          ...process.env,
          PATH: `${bin}:${process.env.PATH}`,
          AWS_ACCESS_KEY_ID: '',
          AWS_SECRET_ACCESS_KEY: '',
          AWS_PROFILE: '',
          CDK_DISABLE_CLI_TELEMETRY: 'true',
        },
      });
      const template = JSON.parse(
        readFileSync(path.join(out, `${stackNameFor(DEFAULT_STAGE)}.template.json`), 'utf8'),
      );
      const types = Object.values(template.Resources as Record<string, { Type: string }>).map(
        (r) => r.Type,
      );
      // Sync, async and large-batch workflows.
      expect(types.filter((t) => t === 'AWS::StepFunctions::StateMachine')).toHaveLength(3);
      expect(types).toContain('AWS::ApiGateway::RestApi');
      expect(types).toContain('AWS::S3::Bucket');
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 120_000);
});
