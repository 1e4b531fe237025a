/**
 * One real synth, bundling included (esbuild, locally): the analysis asset must carry sharp's
 * linux-arm64 binaries — the Lambda's platform, not this machine's — and `npx cdk synth`
 * must work from cdk.json with no AWS account.
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
import { createS3Client } from '../../lambdas/shared/clients.ts';
import type { MapItem } from '../../lambdas/shared/workflow.ts';
import { LOCAL_S3_CREDENTIALS, startLocalS3 } from '../../local/s3.ts';
import { lambdaContext, restEvent } from '../support/events.ts';
import { sharedImage } from '../support/fixtures.ts';
import { synth } from './synth.ts';

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
    const analyze = assetDirOf(
      assembly.directory,
      json,
      stack.getLogicalId(stack.functions.analyze.node.defaultChild as never),
    );
    const ingest = assetDirOf(
      assembly.directory,
      json,
      stack.getLogicalId(stack.functions.ingest.node.defaultChild as never),
    );

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

    expect(readdirSync(ingest).sort()).toEqual(['index.mjs', 'index.mjs.map']);

    // The analysis bundle with this machine's sharp in place of the arm64 one: it must load
    // sharp from node_modules (not bundled) and answer a Map item.
    const x64 = mkdtempSync(path.join(os.tmpdir(), 'analyze-x64-'));
    try {
      for (const file of ['index.mjs', 'index.mjs.map']) {
        cpSync(path.join(analyze, file), path.join(x64, file));
      }
      const own = path.join(PROJECT_ROOT, 'node_modules');
      for (const dir of readdirSync(path.join(analyze, 'node_modules'), { recursive: true }))
        if (!String(dir).includes('/') && !String(dir).startsWith('@')) {
          cpSync(path.join(own, String(dir)), path.join(x64, 'node_modules', String(dir)), {
            recursive: true,
          });
        }
      cpSync(path.join(own, '@img'), path.join(x64, 'node_modules', '@img'), { recursive: true });
      // The item points into a staged object, read from a local S3 as the deployed function
      // reads the bucket (its endpoint from the standard variable: no AWS call is made).
      const store = await startLocalS3({ host: '127.0.0.1', port: 0, bucket: 'staging' });
      try {
        const cat = sharedImage('cat.jpg');
        const object = { bucket: 'staging', key: 'staging/e/images' };
        Object.assign(process.env, {
          AWS_ENDPOINT_URL_S3: store.url,
          AWS_REGION: 'us-east-1',
          AWS_ACCESS_KEY_ID: LOCAL_S3_CREDENTIALS.accessKeyId,
          AWS_SECRET_ACCESS_KEY: LOCAL_S3_CREDENTIALS.secretAccessKey,
        });
        await createS3Client().send(
          new PutObjectCommand({ Bucket: object.bucket, Key: object.key, Body: cat }),
        );
        const { handler } = await import(pathToFileURL(path.join(x64, 'index.mjs')).href);
        const item: MapItem = {
          index: 0,
          name: 'image',
          filename: 'cat.jpg',
          contentType: 'image/jpeg',
          size: cat.length,
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
      const template = JSON.parse(readFileSync(path.join(out, 'ImageBatch.template.json'), 'utf8'));
      const types = Object.values(template.Resources as Record<string, { Type: string }>).map(
        (r) => r.Type,
      );
      expect(types.filter((t) => t === 'AWS::StepFunctions::StateMachine')).toHaveLength(2);
      expect(types).toContain('AWS::ApiGateway::RestApi');
      expect(types).toContain('AWS::S3::Bucket');
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 120_000);
});
