/** API Gateway proxy events and multipart bodies for unit tests of the ingest glue. */
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2, Context } from 'aws-lambda';

export interface FormFile {
  field?: string;
  content: Buffer;
  filename?: string;
  type?: string;
}

/** A real multipart/form-data body, encoded by the platform's FormData (undici). */
export const encodeForm = async (
  files: FormFile[],
  fields: Record<string, string> = {},
): Promise<{ body: Buffer; contentType: string }> => {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  for (const f of files) {
    form.append(
      f.field ?? 'image',
      new Blob([new Uint8Array(f.content)], { type: f.type ?? 'application/octet-stream' }),
      f.filename ?? 'image.bin',
    );
  }
  const request = new Request('http://encoder.invalid/', { method: 'POST', body: form });
  return {
    body: Buffer.from(await request.arrayBuffer()),
    contentType: request.headers.get('content-type') ?? '',
  };
};

interface EventSpec {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** Whether API Gateway base64-encodes the body (binary media types). */
  base64?: boolean;
}

const bodyOf = ({ body, base64 = true }: EventSpec) => {
  if (body === undefined || body.length === 0) return { body: null, isBase64Encoded: false };
  if (!base64) return { body: body.toString(), isBase64Encoded: false };
  return { body: Buffer.from(body).toString('base64'), isBase64Encoded: true };
};

/** A REST API (v1) Lambda proxy event. */
export const restEvent = (spec: EventSpec): APIGatewayProxyEvent => ({
  resource: spec.path,
  path: spec.path,
  httpMethod: spec.method ?? 'POST',
  headers: spec.headers ?? {},
  multiValueHeaders: {},
  queryStringParameters: null,
  multiValueQueryStringParameters: null,
  pathParameters: null,
  stageVariables: null,
  ...bodyOf(spec),
  requestContext: {
    requestId: 'rest-request-id',
    stage: 'prod',
    httpMethod: spec.method ?? 'POST',
    path: `/prod${spec.path}`,
  } as APIGatewayProxyEvent['requestContext'],
});

/** An HTTP API (v2) Lambda proxy event, on a named stage. */
export const httpApiEvent = (spec: EventSpec): APIGatewayProxyEventV2 => ({
  version: '2.0',
  routeKey: '$default',
  rawPath: `/prod${spec.path}`,
  rawQueryString: '',
  headers: spec.headers ?? {},
  ...bodyOf(spec),
  body: bodyOf(spec).body ?? undefined,
  requestContext: {
    requestId: 'http-request-id',
    stage: 'prod',
    http: {
      method: spec.method ?? 'POST',
      path: `/prod${spec.path}`,
      protocol: 'HTTP/1.1',
      sourceIp: '127.0.0.1',
      userAgent: 'test',
    },
  } as APIGatewayProxyEventV2['requestContext'],
});

export const lambdaContext = (remainingMs = 29_000): Context => {
  const deadline = Date.now() + remainingMs;
  return {
    functionName: 'image-ingest',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:image-ingest',
    memoryLimitInMB: '512',
    awsRequestId: 'lambda-request-id',
    logGroupName: '/aws/lambda/image-ingest',
    logStreamName: 'test',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => deadline - Date.now(),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
};
