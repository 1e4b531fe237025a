/**
 * The two Lambdas, bundled by esbuild from the same handler modules the local runtime runs.
 * arm64 on Node 24 (the local toolchain's Node). sharp is a native module: it is left out of
 * the bundle and shipped for linux-arm64 from infra/lambda-native, which the root postinstall
 * fills for that platform whatever machine synthesises the stack — pruned of what never
 * loads at run time.
 *
 * Stack traces stay readable without source maps: the bundles are not minified and keep
 * their names, so a trace names our functions, and esbuild's `// lambdas/…` comments in the
 * bundle say which file a line comes from. `--enable-source-maps` would cost the first error
 * of every cold start the parsing of a 1 MB map (bench/first-error.ts: about 25× the first
 * 500's time, the same-run baseline being a minified bundle without maps).
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
/** What the analysis function never loads, removed from its copy of infra/lambda-native:
 * sharp's C++ sources and build scripts, typings, its CommonJS build (the bundle imports the
 * ESM one), libvips' C headers, semver's CLI, and the READMEs (licenses stay). Globs for `find -path`. */
export const NATIVE_PRUNE = [
  'sharp/src',
  'sharp/install',
  'sharp/lib',
  'sharp/dist/*.cjs',
  '@img/sharp-libvips-linux-arm64/lib/glib-2.0',
  'semver/bin',
  '.bin',
  '*.d.ts',
  '*.d.mts',
  '*.d.cts',
  'README.md',
] as const;
/** Modules the analysis bundle takes from that node_modules rather than bundling a second
 * copy: sharp (native), and semver, which sharp needs there anyway and X-Ray's SDK imports. */
export const ANALYZE_EXTERNALS = ['sharp', 'semver'] as const;

/** Where sharp's linux-arm64 binding lives (lib/sharp-linux-arm64-<version>.node): the file
 * sharp loads on Lambda, proof that the arm64 build, not this machine's, ships. */
export const SHARP_ARM64_PACKAGE = '@img/sharp-linux-arm64';

/** One `find` that deletes NATIVE_PRUNE under dir: paths from its root, names anywhere. */
export const pruneCommand = (dir: string) => {
  const tests = NATIVE_PRUNE.map((glob) =>
    glob.includes('/') ? `-path "${dir}/${glob}"` : `-name "${glob}"`,
  );
  return `find "${dir}" \\( ${tests.join(' -o ')} \\) -prune -exec rm -rf {} +`;
};

export interface ImageFunctionsProps {
  /** Reserved concurrency of the analysis function: the most analyses in flight at once. */
  analysisConcurrency: number;
  /** CloudWatch namespace of the business metrics (per stage). */
  metricsNamespace: string;
}

const baseProps = (
  scope: Construct,
  id: string,
  entry: string,
  metricsNamespace: string,
): NodejsFunctionProps => ({
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
    POWERTOOLS_LOG_LEVEL: 'INFO',
    POWERTOOLS_METRICS_NAMESPACE: metricsNamespace,
  },
  bundling: {
    format: OutputFormat.ESM,
    target: 'node24',
    // Readable traces at no first-error cost (see above).
    minify: false,
    keepNames: true,
    sourceMap: false,
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

  constructor(scope: Construct, id: string, props: ImageFunctionsProps) {
    super(scope, id);
    const analyzeBase = baseProps(
      this,
      'Analyze',
      'lambdas/analyze/handler.ts',
      props.metricsNamespace,
    );
    this.analyze = new NodejsFunction(this, 'Analyze', {
      ...analyzeBase,
      description: 'Analyses one image (sharp): shape, nbytes and metadata, for one Map item.',
      memorySize: FUNCTION_SETTINGS.analyze.memoryMb,
      timeout: Duration.seconds(FUNCTION_SETTINGS.analyze.timeoutSeconds),
      reservedConcurrentExecutions: props.analysisConcurrency,
      environment: {
        ...analyzeBase.environment,
        POWERTOOLS_SERVICE_NAME: FUNCTION_SETTINGS.analyze.name,
      },
      bundling: {
        ...analyzeBase.bundling,
        externalModules: [...ANALYZE_EXTERNALS],
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (_inputDir: string, outputDir: string) => [
            `ls "${path.join(NATIVE_MODULES_DIR, SHARP_ARM64_PACKAGE)}"/lib/*.node >/dev/null 2>&1 || { echo "sharp for linux-arm64 is missing: run npm ci (its postinstall fetches it)" >&2; exit 1; }`,
            `cp -R "${NATIVE_MODULES_DIR}" "${path.join(outputDir, 'node_modules')}"`,
            pruneCommand(path.join(outputDir, 'node_modules')),
          ],
        },
      },
    });

    const ingestBase = baseProps(
      this,
      'Ingest',
      'lambdas/ingest/handler.ts',
      props.metricsNamespace,
    );
    this.ingest = new NodejsFunction(this, 'Ingest', {
      ...ingestBase,
      description: 'Takes uploads from API Gateway, stages large ones, runs the workflow.',
      memorySize: FUNCTION_SETTINGS.ingest.memoryMb,
      timeout: Duration.seconds(FUNCTION_SETTINGS.ingest.timeoutSeconds),
      environment: {
        ...ingestBase.environment,
        POWERTOOLS_SERVICE_NAME: FUNCTION_SETTINGS.ingest.name,
      },
    });
  }
}
