/**
 * The two Lambdas, bundled by esbuild from the same handler modules the local runtime runs.
 * arm64 on Node 24 (the local toolchain's Node). sharp is a native module: it is left out of
 * the bundle and shipped for linux-arm64 from infra/lambda-native, which the root postinstall
 * fills for that platform whatever machine synthesises the stack.
 */
import path from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import {
  NodejsFunction,
  type NodejsFunctionProps,
  OutputFormat,
} from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { FUNCTION_SETTINGS } from './settings.ts';

export const PROJECT_ROOT = path.resolve(import.meta.dirname, '..');
export const NATIVE_MODULES_DIR = path.join(PROJECT_ROOT, 'infra', 'lambda-native', 'node_modules');
/** Where sharp's linux-arm64 binding lives (lib/sharp-linux-arm64-<version>.node): the file
 * sharp loads on Lambda, proof that the arm64 build, not this machine's, ships. */
export const SHARP_ARM64_PACKAGE = '@img/sharp-linux-arm64';

const baseProps = (scope: Construct, id: string, entry: string): NodejsFunctionProps => ({
  entry: path.join(PROJECT_ROOT, entry),
  handler: 'handler',
  projectRoot: PROJECT_ROOT,
  depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
  runtime: Runtime.NODEJS_24_X,
  architecture: Architecture.ARM_64,
  tracing: Tracing.ACTIVE,
  logGroup: new LogGroup(scope, `${id}Logs`, {
    retention: RetentionDays.ONE_MONTH,
    removalPolicy: RemovalPolicy.DESTROY,
  }),
  environment: {
    NODE_OPTIONS: '--enable-source-maps',
    POWERTOOLS_LOG_LEVEL: 'INFO',
  },
  bundling: {
    format: OutputFormat.ESM,
    target: 'node24',
    minify: true,
    sourceMap: true,
    sourcesContent: false,
    // The SDK is bundled, pinned by our lockfile, rather than taken from the runtime.
    bundleAwsSDK: true,
    mainFields: ['module', 'main'],
    // Some bundled CommonJS dependencies call require(): give ESM output one.
    banner:
      "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
    forceDockerBundling: false,
  },
});

export class ImageFunctions extends Construct {
  readonly analyze: NodejsFunction;
  readonly ingest: NodejsFunction;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const analyzeBase = baseProps(this, 'Analyze', 'lambdas/analyze/handler.ts');
    this.analyze = new NodejsFunction(this, 'Analyze', {
      ...analyzeBase,
      description: 'Analyses one image (sharp): shape, nbytes and metadata, for one Map item.',
      memorySize: FUNCTION_SETTINGS.analyze.memoryMb,
      timeout: Duration.seconds(FUNCTION_SETTINGS.analyze.timeoutSeconds),
      environment: { ...analyzeBase.environment, POWERTOOLS_SERVICE_NAME: 'image-analyze' },
      bundling: {
        ...analyzeBase.bundling,
        externalModules: ['sharp'],
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (_inputDir: string, outputDir: string) => [
            `ls "${path.join(NATIVE_MODULES_DIR, SHARP_ARM64_PACKAGE)}"/lib/*.node >/dev/null 2>&1 || { echo "sharp for linux-arm64 is missing: run npm ci (its postinstall fetches it)" >&2; exit 1; }`,
            `cp -R "${NATIVE_MODULES_DIR}" "${path.join(outputDir, 'node_modules')}"`,
          ],
        },
      },
    });

    const ingestBase = baseProps(this, 'Ingest', 'lambdas/ingest/handler.ts');
    this.ingest = new NodejsFunction(this, 'Ingest', {
      ...ingestBase,
      description: 'Takes uploads from API Gateway, stages large ones, runs the workflow.',
      memorySize: FUNCTION_SETTINGS.ingest.memoryMb,
      timeout: Duration.seconds(FUNCTION_SETTINGS.ingest.timeoutSeconds),
      environment: { ...ingestBase.environment, POWERTOOLS_SERVICE_NAME: 'image-ingest' },
    });
  }
}
