/**
 * The analysis function runs our bundle against infra/lambda-native's node_modules (sharp for
 * linux-arm64, and the semver X-Ray's SDK takes from there), while tests and the local runtime
 * use the root's. They must be the same sharp, or what is tested is not what ships.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ANALYZE_EXTERNALS, NATIVE_MODULES_DIR, PROJECT_ROOT } from '../../infra/functions.ts';

const versionIn = (nodeModules: string, pkg: string): string =>
  JSON.parse(readFileSync(path.join(nodeModules, pkg, 'package.json'), 'utf8')).version;
const ROOT_MODULES = path.join(PROJECT_ROOT, 'node_modules');

describe('the native modules shipped with the analysis function', () => {
  it('are the same sharp as the root’s, which the tests exercise', () => {
    const shipped = versionIn(NATIVE_MODULES_DIR, 'sharp');
    expect(shipped).toBe(versionIn(ROOT_MODULES, 'sharp'));
    // Pinned exactly, so that a fresh `npm ci` cannot drift either way.
    const manifest = JSON.parse(
      readFileSync(path.join(NATIVE_MODULES_DIR, '..', 'package.json'), 'utf8'),
    );
    expect(manifest.dependencies.sharp).toBe(shipped);
    expect(versionIn(NATIVE_MODULES_DIR, '@img/sharp-linux-arm64')).toBe(shipped);
  });

  it('hold a semver that X-Ray’s SDK accepts, since the bundle imports it from there', () => {
    expect(ANALYZE_EXTERNALS).toContain('semver');
    const wanted: string = JSON.parse(
      readFileSync(path.join(ROOT_MODULES, 'aws-xray-sdk-core', 'package.json'), 'utf8'),
    ).dependencies.semver;
    const semver = createRequire(path.join(NATIVE_MODULES_DIR, 'x.js'))('semver') as {
      satisfies: (version: string, range: string) => boolean;
    };
    expect(semver.satisfies(versionIn(NATIVE_MODULES_DIR, 'semver'), wanted)).toBe(true);
  });
});
