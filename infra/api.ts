/**
 * The REST API in front of the ingest Lambda, built from the same route list the ingest
 * dispatches on. Every resource takes ANY and every path has a resource, so a wrong method or
 * path is answered by the ingest's JSON 405/404, as locally, not by API Gateway's "Missing
 * Authentication Token". API Gateway's own refusals (too large, timeout, throttled) use the
 * same JSON error shape through Gateway Responses.
 *
 * Auth is IAM (SigV4) unless the deploy says otherwise: the API runs paid work. `none` is for
 * demos and says so at synth; an API key needs a stated purpose (metering a client, say),
 * because usage plans are best effort and no access control.
 *
 * The stage does not own the account's API Gateway CloudWatch role (a region-wide setting
 * that other APIs rely on): it is set once per account and region, see README "Deploy".
 */
import { Annotations, RemovalPolicy, Stack } from 'aws-cdk-lib';
import {
  AccessLogFormat,
  ApiKeySourceType,
  AuthorizationType,
  Cors,
  EndpointType,
  type IResource,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  type MethodOptions,
  Period,
  Resource,
  ResponseType,
  RestApi,
} from 'aws-cdk-lib/aws-apigateway';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import {
  BINARY_MEDIA_TYPES,
  GATEWAY_RESPONSES,
  type GatewayResponseType,
  gatewayErrorBody,
  ROUTES,
} from '../lambdas/ingest/routes.ts';

export type AuthMode = 'none' | 'apiKey' | 'iam';
export const AUTH_MODES: readonly AuthMode[] = ['none', 'apiKey', 'iam'];

export interface ImageApiProps {
  ingest: IFunction;
  auth: AuthMode;
  /** The API Gateway stage: the deploy's stage name. */
  stageName: string;
  /** Why this API hands out a key (required with auth apiKey; it becomes the key's description). */
  apiKeyPurpose?: string;
  /** Steady-state requests per second for the stage, and the burst above it. */
  rateLimit?: number;
  burstLimit?: number;
}

const methodOptions = (auth: AuthMode): MethodOptions => {
  if (auth === 'apiKey') return { apiKeyRequired: true };
  if (auth === 'iam') return { authorizationType: AuthorizationType.IAM };
  return { authorizationType: AuthorizationType.NONE };
};

export class ImageApi extends Construct {
  readonly api: RestApi;
  readonly auth: AuthMode;
  readonly apiKeyId?: string;

  constructor(scope: Construct, id: string, props: ImageApiProps) {
    super(scope, id);
    this.auth = props.auth;
    if (props.auth === 'apiKey' && !props.apiKeyPurpose?.trim())
      throw new Error(
        'auth apiKey needs -c apiKeyPurpose="…": an API key identifies a client for its usage plan (best-effort throttling and quota) and controls no access; use auth iam to restrict who may call.',
      );
    if (props.auth === 'none')
      Annotations.of(this).addWarning(
        'auth none: anyone who finds this API can run paid analyses. For demos only; deploy with the default (IAM) otherwise.',
      );
    const rateLimit = props.rateLimit ?? 50;
    const burstLimit = props.burstLimit ?? 100;
    const accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.api = new RestApi(this, 'Api', {
      // Not unique in API Gateway, so no replacement can collide; tells stages apart.
      restApiName: `${Stack.of(this).stackName}-api`,
      description: 'Image batch analysis: POST images, get shapes and sizes (sync or async).',
      endpointTypes: [EndpointType.REGIONAL],
      // API Gateway hands these bodies to the Lambda base64-encoded, bytes intact.
      binaryMediaTypes: [...BINARY_MEDIA_TYPES],
      // The account-level logging role is not ours to create or delete (README "Deploy").
      cloudWatchRole: false,
      apiKeySourceType: ApiKeySourceType.HEADER,
      deployOptions: {
        stageName: props.stageName,
        throttlingRateLimit: rateLimit,
        throttlingBurstLimit: burstLimit,
        tracingEnabled: true,
        metricsEnabled: true,
        loggingLevel: MethodLoggingLevel.ERROR,
        // Request bodies are images: never copied into logs.
        dataTraceEnabled: false,
        accessLogDestination: new LogGroupLogDestination(accessLogs),
        accessLogFormat: AccessLogFormat.jsonWithStandardFields(),
      },
      defaultMethodOptions: methodOptions(props.auth),
      // Preflight answered by API Gateway itself, so browsers need no credentials for it.
      defaultCorsPreflightOptions: {
        allowOrigins: Cors.ALL_ORIGINS,
        allowMethods: ['GET', 'POST', 'DELETE', 'OPTIONS'],
        allowHeaders: [
          'Content-Type',
          'Prefer',
          'X-Api-Key',
          'Authorization',
          'X-Amz-Date',
          'X-Amz-Security-Token',
        ],
      },
    });

    // One invoke permission for the whole API: every method calls the same function.
    const integration = new LambdaIntegration(props.ingest, {
      proxy: true,
      scopePermissionToMethod: false,
    });
    const validator = this.api.addRequestValidator('PathParameters', {
      validateRequestParameters: true,
    });
    for (const route of ROUTES) {
      const resource = this.api.root.resourceForPath(route.path);
      const params = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      for (const method of route.methods) {
        resource.addMethod(method, integration, {
          requestValidator: params.length ? validator : undefined,
          requestParameters: Object.fromEntries(
            params.map((p) => [`method.request.path.${p}`, true]),
          ),
        });
      }
    }
    addFallbacks(this.api.root, integration);
    for (const type of Object.keys(GATEWAY_RESPONSES) as GatewayResponseType[]) {
      this.api.addGatewayResponse(type, {
        type: ResponseType.of(type),
        statusCode: String(GATEWAY_RESPONSES[type].status),
        responseHeaders: { 'Access-Control-Allow-Origin': "'*'" },
        templates: { 'application/json': gatewayErrorBody(type) },
      });
    }

    // Whatever else API Gateway refuses (a bad path parameter, …) keeps the same shape, its
    // status its own; $context.error.messageString is already a quoted JSON string.
    for (const type of [ResponseType.DEFAULT_4XX, ResponseType.DEFAULT_5XX]) {
      this.api.addGatewayResponse(type.responseType, {
        type,
        responseHeaders: { 'Access-Control-Allow-Origin': "'*'" },
        templates: {
          'application/json':
            '{"error":{"code":"$context.error.responseType","message":$context.error.messageString}}',
        },
      });
    }

    if (props.auth === 'apiKey') {
      const key = this.api.addApiKey('ApiKey', {
        description: `Image batch API key: ${props.apiKeyPurpose}`,
      });
      const plan = this.api.addUsagePlan('UsagePlan', {
        throttle: { rateLimit, burstLimit },
        quota: { limit: 100_000, period: Period.DAY },
      });
      plan.addApiKey(key);
      plan.addApiStage({ stage: this.api.deploymentStage });
      this.apiKeyId = key.keyId;
    }
  }
}

/**
 * Every resource of the route tree, intermediate ones included (`/executions` under
 * `/executions/{id}`), answers any method through the ingest; and every resource without a
 * path-parameter child gets a greedy `{proxy+}` child, so deeper unknown paths (`/shape/x`)
 * reach the ingest too. API Gateway matches the most specific resource and does not fall
 * back to a shallower `{proxy+}`: without these, such requests get its 403.
 */
const addFallbacks = (resource: IResource, integration: LambdaIntegration) => {
  const children = resource.node.children.filter((c) => c instanceof Resource);
  if (!children.some((c) => c.path.split('/').at(-1)?.startsWith('{')))
    resource.addResource('{proxy+}').addMethod('ANY', integration);
  resource.addMethod('ANY', integration);
  for (const child of children) addFallbacks(child, integration);
};

export const parseAuthMode = (value: unknown): AuthMode => {
  const mode = String(value ?? 'iam') as AuthMode;
  if (!AUTH_MODES.includes(mode)) {
    throw new Error(`context "auth" must be one of ${AUTH_MODES.join(', ')}, not "${mode}"`);
  }
  return mode;
};
