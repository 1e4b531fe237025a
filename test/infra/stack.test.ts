/**
 * The stack as CloudFormation will see it: targeted assertions on what matters (binary media
 * types, routes, auth, runtimes, both workflows' logging and tracing, the bucket's
 * protections, the grants), not a snapshot. Synthesized once without bundling;
 * bundling.test.ts bundles, stages.test.ts and monitoring.test.ts cover those features.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import aslValidator from 'asl-validator';
import { Annotations, Match, type Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { parseAuthMode } from '../../infra/api.ts';
import { mapConcurrencyOf } from '../../infra/asl.ts';
import { GATEWAY_RESPONSES, gatewayErrorBody, ROUTES } from '../../lambdas/ingest/routes.ts';
import { DEFINITION_FILE, placeholdersIn } from '../../statemachine/definition.ts';
import { logicalId, synth } from './synth.ts';

const { template, assembly, stack } = synth();
const resources = (type: string) => template.findResources(type);

type Props = Record<string, unknown> & { ParentId: unknown; PathPart: string };
/**
 * Which method API Gateway runs for a request, from the template: at each path segment the
 * literal child wins, then a `{param}` child, then a greedy `{proxy+}` child takes the rest;
 * there is no backtracking to a shallower `{proxy+}`. On the resource found, the method
 * itself or else ANY. (developerguide: api-gateway-set-up-simple-proxy.html, "proxy resource")
 */
const methodFor = (t: Template, httpMethod: string, path: string) => {
  const resources = Object.entries(t.findResources('AWS::ApiGateway::Resource')).map(([id, r]) => ({
    id,
    ...(r.Properties as Props),
  }));
  const parentOf = (r: { ParentId: unknown }) => (r.ParentId as { Ref?: string }).Ref ?? 'root';
  let node = 'root';
  const segments = path.split('/').filter(Boolean);
  for (const segment of segments) {
    const children = resources.filter((r) => parentOf(r) === node);
    const next =
      children.find((r) => r.PathPart === segment) ??
      children.find((r) => /^\{\w+\}$/.test(r.PathPart)) ??
      children.find((r) => /^\{\w+\+\}$/.test(r.PathPart));
    if (!next) return undefined;
    node = next.id;
    if (next.PathPart.endsWith('+}')) break;
  }
  const methods = Object.values(t.findResources('AWS::ApiGateway::Method'))
    .map((m) => m.Properties)
    .filter((m) => ((m.ResourceId as { Ref?: string }).Ref ?? 'root') === node);
  return (
    methods.find((m) => m.HttpMethod === httpMethod) ?? methods.find((m) => m.HttpMethod === 'ANY')
  );
};
const concrete = (path: string) => path.replace(/\{\w+\}/g, 'abc');

describe('the API', () => {
  it('hands multipart, images and octet streams to the Lambda as binary', () => {
    template.hasResourceProperties('AWS::ApiGateway::RestApi', {
      BinaryMediaTypes: ['multipart/form-data', 'image/*', 'application/octet-stream'],
      EndpointConfiguration: { Types: ['REGIONAL'] },
    });
  });

  it('routes every route of the ingest, by method, to the ingest Lambda as a proxy', () => {
    for (const route of ROUTES) {
      for (const method of route.methods) {
        const found = methodFor(template, method, concrete(route.path));
        expect(found?.HttpMethod).toBe(method);
        expect(JSON.stringify(found?.Integration)).toContain(logicalId(stack.functions.ingest));
        expect(found?.Integration).toMatchObject({ Type: 'AWS_PROXY' });
      }
    }
  });

  it('sends every other method and path to the ingest, for its JSON 404 and 405', () => {
    const paths = new Set(['/', '/nowhere', '/nowhere/deeper/still']);
    for (const route of ROUTES) {
      const segments = concrete(route.path).split('/');
      // Every prefix of a route (`/executions`), and paths below it (`/shape/x/y`).
      for (let i = 2; i <= segments.length; i++) paths.add(segments.slice(0, i).join('/'));
      paths.add(`${concrete(route.path)}/x/y`);
    }
    for (const path of paths) {
      for (const method of ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD']) {
        const found = methodFor(template, method, path);
        expect(found, `${method} ${path}`).toBeDefined();
        expect(JSON.stringify(found?.Integration), `${method} ${path}`).toContain(
          logicalId(stack.functions.ingest),
        );
      }
    }
  });

  it('requires the execution id path parameter', () => {
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'GET',
      RequestParameters: { 'method.request.path.id': true },
      RequestValidatorId: Match.anyValue(),
    });
  });

  it('throttles, traces and access-logs the stage', () => {
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'dev',
      TracingEnabled: true,
      AccessLogSetting: Match.objectLike({ DestinationArn: Match.anyValue() }),
      MethodSettings: [
        Match.objectLike({
          ThrottlingRateLimit: 50,
          ThrottlingBurstLimit: 100,
          DataTraceEnabled: false,
        }),
      ],
    });
  });

  it('answers API Gateway’s own refusals in the ingest’s JSON error shape', () => {
    for (const [type, { status }] of Object.entries(GATEWAY_RESPONSES)) {
      template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
        ResponseType: type,
        StatusCode: String(status),
        ResponseTemplates: { 'application/json': gatewayErrorBody(type as never) },
      });
    }
  });

  it('puts API Gateway’s other refusals in the same shape, keeping their status', () => {
    for (const type of ['DEFAULT_4XX', 'DEFAULT_5XX']) {
      template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
        ResponseType: type,
        StatusCode: Match.absent(),
        ResponseTemplates: {
          'application/json': Match.stringLikeRegexp('^\\{"error":\\{"code":'),
        },
      });
    }
  });

  it('requires IAM (SigV4) on every method by default, preflight excepted', () => {
    const methods = Object.values(resources('AWS::ApiGateway::Method')).map((m) => m.Properties);
    for (const m of methods)
      expect(m.AuthorizationType).toBe(m.HttpMethod === 'OPTIONS' ? 'NONE' : 'AWS_IAM');
    template.resourceCountIs('AWS::ApiGateway::UsagePlan', 0);
    expect(parseAuthMode(undefined)).toBe('iam');
    expect(() => parseAuthMode('cognito')).toThrow(/must be one of none, apiKey, iam/);
  });

  it('warns at synth when deployed without auth', () => {
    const open = synth({ auth: 'none' });
    Annotations.fromStack(open.stack).hasWarning(
      '*',
      Match.stringLikeRegexp('auth none: anyone who finds this API can run paid analyses'),
    );
    open.template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'POST',
      AuthorizationType: 'NONE',
    });
    // The default deploy warns of nothing (a wider analysisConcurrency: large-batch.test.ts).
    expect(Annotations.fromStack(stack).findWarning('*', Match.anyValue())).toEqual([]);
  });

  it('hands out an API key only for a stated purpose, with its usage plan', () => {
    expect(() => synth({ auth: 'apiKey' })).toThrow(/apiKeyPurpose.*controls no access/);
    const keyed = synth({
      auth: 'apiKey',
      apiKeyPurpose: 'metering the partner batch job',
    }).template;
    keyed.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'POST',
      ApiKeyRequired: true,
    });
    // Browsers send preflight requests without credentials.
    keyed.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'OPTIONS',
      ApiKeyRequired: false,
    });
    keyed.hasResourceProperties('AWS::ApiGateway::ApiKey', {
      Description: Match.stringLikeRegexp('metering the partner batch job'),
    });
    keyed.resourceCountIs('AWS::ApiGateway::UsagePlan', 1);
  });

  it('does not own the account’s API Gateway logging role', () => {
    template.resourceCountIs('AWS::ApiGateway::Account', 0);
    const roles = JSON.stringify(resources('AWS::IAM::Role'));
    expect(roles).not.toContain('AmazonAPIGatewayPushToCloudWatchLogs');
    expect(roles).not.toContain('apigateway.amazonaws.com');
  });
});

describe('the functions', () => {
  it('run on Node 24, arm64, traced', () => {
    template.resourcePropertiesCountIs(
      'AWS::Lambda::Function',
      { Runtime: 'nodejs24.x', Architectures: ['arm64'], TracingConfig: { Mode: 'Active' } },
      2,
    );
  });

  it('keep readable stack traces without --enable-source-maps', () => {
    const all = resources('AWS::Lambda::Function');
    const { analyze, ingest } = stack.functions;
    for (const fn of [all[logicalId(analyze)], all[logicalId(ingest)]]) {
      const env = fn?.Properties.Environment.Variables as Record<string, string>;
      expect(env.POWERTOOLS_SERVICE_NAME).toMatch(/^image-/);
      expect(env.NODE_OPTIONS ?? '').not.toContain('source-maps');
    }
    // The bundles themselves (not minified, no map) are checked in bundling.test.ts.
  });

  it('bound the analyses in flight at the reserved concurrency, no lower than the Map’s', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: 'image-analyze' }) },
      ReservedConcurrentExecutions: 20,
    });
    expect(mapConcurrencyOf(DEFINITION_FILE)).toBe(10);
    expect(() => synth({ analysisConcurrency: 9 })).toThrow(/at least the workflow Map/);
    synth({ analysisConcurrency: 40 }).template.hasResourceProperties('AWS::Lambda::Function', {
      ReservedConcurrentExecutions: 40,
    });
  });

  it('give the ingest both machines and the bucket, by environment', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          SYNC_STATE_MACHINE_ARN: { Ref: logicalId(stack.workflows.sync) },
          ASYNC_STATE_MACHINE_ARN: { Ref: logicalId(stack.workflows.async) },
          STAGING_BUCKET: { Ref: logicalId(stack.staging) },
          POWERTOOLS_SERVICE_NAME: 'image-ingest',
        }),
      },
      Timeout: 29,
    });
  });
});

describe('the workflows', () => {
  it('deploy the one ASL file as EXPRESS and as STANDARD, logging everything, traced', () => {
    for (const type of ['EXPRESS', 'STANDARD']) {
      template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
        StateMachineType: type,
        LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: true }),
        TracingConfiguration: { Enabled: true },
        DefinitionSubstitutions: {
          AnalyzeFunctionArn: { 'Fn::GetAtt': [logicalId(stack.functions.analyze), 'Arn'] },
        },
      });
    }
  });

  it('leave no placeholder unsubstituted, and are valid once substituted', () => {
    const machines = Object.values(resources('AWS::StepFunctions::StateMachine'));
    for (const machine of machines) {
      const { DefinitionS3Location, DefinitionSubstitutions } = machine.Properties;
      const asset = readFileSync(
        path.join(assembly.directory, `asset.${DefinitionS3Location.Key}`),
        'utf8',
      );
      const needed = new Set(placeholdersIn(asset).map((p) => p.slice(2, -1)));
      expect([...needed].sort()).toEqual(Object.keys(DefinitionSubstitutions).sort());
      // What CloudFormation will do with the asset:
      const deployed = asset.replace(
        /\$\{(\w+)\}/g,
        () => 'arn:aws:lambda:eu-west-1:123456789012:function:x',
      );
      expect(placeholdersIn(deployed)).toEqual([]);
      expect(aslValidator(JSON.parse(deployed)).errors).toEqual([]);
    }
  });

  it('may invoke the analysis function, and nothing else', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('WorkflowsSyncRole') }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: 'lambda:InvokeFunction', Effect: 'Allow' }),
        ]),
      },
    });
  });
});

describe('the staging bucket', () => {
  it('is encrypted, private, TLS-only and expires what is left behind', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          { ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } },
        ],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({ Prefix: 'staging/', ExpirationInDays: 1, Status: 'Enabled' }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  it('lets each function do only what it does to staged objects', () => {
    const statementsOf = (fn: typeof stack.functions.ingest) => {
      const role = stack.getLogicalId(fn.role?.node.defaultChild as never);
      const [policy] = Object.values(resources('AWS::IAM::Policy')).filter((p) =>
        JSON.stringify(p.Properties.Roles).includes(role),
      );
      return policy?.Properties.PolicyDocument.Statement as { Action: string | string[] }[];
    };
    const actions = (fn: typeof stack.functions.ingest) =>
      statementsOf(fn)
        .flatMap((s) => s.Action)
        .filter((a) => a.startsWith('s3:') || a.startsWith('states:'));
    // Large batches add theirs (large-batch.test.ts checks each against its resources).
    expect([...new Set(actions(stack.functions.ingest))].sort()).toEqual([
      's3:DeleteObject',
      's3:GetObject',
      's3:ListBucket',
      's3:PutObject',
      'states:DescribeExecution',
      'states:DescribeMapRun',
      'states:ListMapRuns',
      'states:StartExecution',
      'states:StartSyncExecution',
      'states:StopExecution',
    ]);
    // The analysis reads; the workflows delete what they staged.
    expect([...new Set(actions(stack.functions.analyze))].sort()).toEqual(['s3:GetObject']);
  });
});

describe('the outputs', () => {
  it('give the API URL, both machines and where to watch them in the console', () => {
    for (const name of [
      'ApiUrl',
      'SyncStateMachineArn',
      'AsyncStateMachineArn',
      'SyncStateMachineConsoleUrl',
      'AsyncStateMachineConsoleUrl',
      'StagingBucketName',
    ]) {
      template.hasOutput(name, Match.anyValue());
    }
    const url = JSON.stringify(template.findOutputs('SyncStateMachineConsoleUrl'));
    expect(url).toContain('console.aws.amazon.com/states/home');
  });
});
