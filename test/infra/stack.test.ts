/**
 * The stack as CloudFormation will see it: targeted assertions on what matters (binary media
 * types, routes, runtimes, both workflows' logging and tracing, the bucket's protections, the
 * grants), not a snapshot. Synthesised once without bundling; bundling.test.ts bundles.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import aslValidator from 'asl-validator';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { parseAuthMode } from '../../infra/api.ts';
import { GATEWAY_RESPONSES, gatewayErrorBody, ROUTES } from '../../lambdas/ingest/routes.ts';
import { placeholdersIn } from '../../statemachine/definition.ts';
import { synth } from './synth.ts';

const { template, assembly, stack } = synth();
const resources = (type: string) => template.findResources(type);
const logicalId = (construct: { node: { defaultChild?: unknown } }) =>
  stack.getLogicalId(construct.node.defaultChild as never);

describe('the API', () => {
  it('hands multipart, images and octet streams to the Lambda as binary', () => {
    template.hasResourceProperties('AWS::ApiGateway::RestApi', {
      BinaryMediaTypes: ['multipart/form-data', 'image/*', 'application/octet-stream'],
      EndpointConfiguration: { Types: ['REGIONAL'] },
    });
  });

  it('routes every route of the ingest, by method, to the ingest Lambda as a proxy', () => {
    const paths = Object.values(resources('AWS::ApiGateway::Resource')).map(
      (r) => r.Properties.PathPart,
    );
    for (const route of ROUTES) {
      for (const part of route.path.split('/').filter(Boolean)) expect(paths).toContain(part);
      for (const method of route.methods) {
        template.hasResourceProperties('AWS::ApiGateway::Method', {
          HttpMethod: method,
          Integration: {
            Type: 'AWS_PROXY',
            Uri: Match.objectLike({
              'Fn::Join': Match.arrayWith([
                Match.arrayWith([{ 'Fn::GetAtt': [logicalId(stack.functions.ingest), 'Arn'] }]),
              ]),
            }),
          },
        });
      }
    }
    // Wrong methods and unknown paths reach the ingest for its JSON 405/404.
    expect(paths).toContain('{proxy+}');
    template.resourcePropertiesCountIs('AWS::ApiGateway::Method', { HttpMethod: 'ANY' }, 6);
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
      StageName: 'prod',
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

  it('is open by default, and takes an API key or IAM auth by context', () => {
    template.resourceCountIs('AWS::ApiGateway::UsagePlan', 0);
    const keyed = synth({ auth: 'apiKey' }).template;
    keyed.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'POST',
      ApiKeyRequired: true,
    });
    // Browsers send preflight requests without credentials.
    keyed.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'OPTIONS',
      ApiKeyRequired: false,
    });
    keyed.resourceCountIs('AWS::ApiGateway::UsagePlan', 1);
    synth({ auth: 'iam' }).template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'POST',
      AuthorizationType: 'AWS_IAM',
    });
    expect(() => parseAuthMode('cognito')).toThrow(/must be one of none, apiKey, iam/);
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
    expect(actions(stack.functions.ingest).sort()).toEqual([
      's3:DeleteObject',
      's3:PutObject',
      'states:DescribeExecution',
      'states:StartExecution',
      'states:StartSyncExecution',
    ]);
    expect(actions(stack.functions.analyze).sort()).toEqual(['s3:DeleteObject', 's3:GetObject']);
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
