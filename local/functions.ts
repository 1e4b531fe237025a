/**
 * The local Lambda: the same handler modules as in AWS, invoked with a Lambda-shaped context
 * and Lambda's limits — in the function's sandboxes (sandbox.ts), or in this thread for the
 * engine's unit tests — and the Task integrations the workflow uses, wrapped as AWS wraps them.
 */
import { randomUUID } from 'node:crypto';
import { DeleteObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ClientContext, Context } from 'aws-lambda';
import { LAMBDA_SYNC_PAYLOAD_BYTES } from '../lambdas/shared/aws-limits.ts';
import { DeadlineExceededError, withDeadline } from '../lambdas/shared/deadline.ts';
import type { SandboxPool } from './sandbox.ts';

export type Handler = (event: never, context: Context) => Promise<unknown>;

export interface LocalFunction {
  name: string;
  arn: string;
  /** Where invocations run: the function's sandboxes, or else `handler` in this thread. */
  sandboxes?: SandboxPool;
  handler?: Handler;
  timeoutSeconds: number;
  memoryMb: number;
  /** Told of every invocation's billed duration (the local runtime's meter). */
  onInvoked?: (durationMs: number) => void;
}

/** An error whose name is what Step Functions matches in Retry and Catch. */
export const namedError = (name: string, message: string) =>
  Object.assign(new Error(message), { name });

/** A payload given as its JSON text, by a caller that writes it more cheaply than
 * JSON.stringify would (the local gateway, whose base64 body needs no escaping). */
export class JsonPayload {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
}

/** The JSON text of a payload: what Lambda measures against its limit and what crosses over. */
const serialise = (value: unknown) =>
  value instanceof JsonPayload ? value.text : JSON.stringify(value ?? null);

const contextFor = (fn: LocalFunction, clientContext?: ClientContext) => ({
  functionName: fn.name,
  functionVersion: '$LATEST',
  invokedFunctionArn: fn.arn,
  memoryLimitInMB: String(fn.memoryMb),
  awsRequestId: randomUUID(),
  logGroupName: `/aws/lambda/${fn.name}`,
  logStreamName: 'local',
  ...(clientContext ? { clientContext } : {}),
});

/** In this thread (the engine's unit tests): parsed from its JSON text, the handler gets its
 * own copy, as across Lambda's boundary. */
const runHere = async (
  fn: LocalFunction,
  handler: Handler,
  request: string,
  clientContext?: ClientContext,
) => {
  const timeoutMs = fn.timeoutSeconds * 1000;
  const deadline = Date.now() + timeoutMs;
  try {
    const result = await withDeadline(timeoutMs, () =>
      handler(JSON.parse(request) as never, {
        ...contextFor(fn, clientContext),
        callbackWaitsForEmptyEventLoop: true,
        getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
        done: () => undefined,
        fail: () => undefined,
        succeed: () => undefined,
      }),
    );
    return serialise(result);
  } catch (error) {
    if (error instanceof DeadlineExceededError) {
      throw namedError('Sandbox.Timedout', `Task timed out after ${fn.timeoutSeconds}.00 seconds`);
    }
    throw error;
  }
};

/** Invokes like Lambda's RequestResponse: the event and result cross a JSON boundary (the
 * event may come as its text already: JsonPayload). */
export const invoke = async (
  fn: LocalFunction,
  event: unknown,
  options: { clientContext?: ClientContext } = {},
): Promise<unknown> => {
  const request = serialise(event);
  if (Buffer.byteLength(request) > LAMBDA_SYNC_PAYLOAD_BYTES) {
    throw namedError(
      'Lambda.RequestEntityTooLargeException',
      `Request must be smaller than ${LAMBDA_SYNC_PAYLOAD_BYTES} bytes for the InvokeFunction operation`,
    );
  }
  const started = performance.now();
  let response: string;
  try {
    if (fn.sandboxes) {
      response = await fn.sandboxes.invoke(
        request,
        contextFor(fn, options.clientContext),
        fn.timeoutSeconds * 1000,
      );
    } else if (fn.handler) {
      response = await runHere(fn, fn.handler, request, options.clientContext);
    } else {
      throw namedError('Lambda.ResourceNotFoundException', `Function has no code: ${fn.arn}`);
    }
  } finally {
    fn.onInvoked?.(performance.now() - started);
  }
  if (Buffer.byteLength(response) > LAMBDA_SYNC_PAYLOAD_BYTES) {
    throw namedError(
      'Lambda.ResponseSizeTooLarge',
      'Response payload size exceeded maximum allowed payload size (6291556 bytes).',
    );
  }
  return JSON.parse(response);
};

/** Lambda's Invoke takes "up to 3,583 bytes of base64-encoded data about the invoking client
 * to pass to the function in the context object" (API_Invoke, ClientContext); the Node.js
 * runtime hands the function its JSON, parsed, as `context.clientContext`. */
const CLIENT_CONTEXT_BYTES = 3583;
const clientContextOf = (encoded: unknown): ClientContext | undefined => {
  if (encoded === undefined) return undefined;
  if (typeof encoded !== 'string' || encoded.length > CLIENT_CONTEXT_BYTES) {
    throw namedError(
      'Lambda.InvalidRequestContentException',
      `Client context must be base64-encoded JSON of at most ${CLIENT_CONTEXT_BYTES} bytes`,
    );
  }
  try {
    return JSON.parse(Buffer.from(encoded, 'base64').toString('utf8')) as ClientContext;
  } catch {
    throw namedError(
      'Lambda.InvalidRequestContentException',
      'Client context must be a valid Base64-encoded JSON object.',
    );
  }
};

/** The AWS SDK service integrations the workflow uses, run against the local services.
 * https://docs.aws.amazon.com/step-functions/latest/dg/supported-services-awssdk.html */
const SDK_ACTIONS = {
  'arn:aws:states:::aws-sdk:s3:deleteObject': async (s3: S3Client, input: unknown) => {
    const { $metadata: _, ...result } = await s3.send(
      new DeleteObjectCommand(input as { Bucket: string; Key: string }),
    );
    return result;
  },
} as const;

/** Routes the workflow's Task resources to local functions and services. */
export const taskInvoker = (functions: LocalFunction[], services: { s3?: S3Client } = {}) => {
  const byArn = new Map(functions.map((fn) => [fn.arn, fn]));
  const find = (arn: string) => {
    const fn = byArn.get(arn);
    if (!fn) throw namedError('Lambda.ResourceNotFoundException', `Function not found: ${arn}`);
    return fn;
  };

  return async (resource: string, input: unknown): Promise<unknown> => {
    if (resource === 'arn:aws:states:::lambda:invoke') {
      // The optimised integration: Parameters carry FunctionName, Payload and optionally
      // ClientContext; the state gets the invocation response, the function's result under
      // Payload. https://docs.aws.amazon.com/step-functions/latest/dg/connect-lambda.html
      const { FunctionName, Payload, ClientContext } = input as {
        FunctionName: string;
        Payload: unknown;
        ClientContext?: unknown;
      };
      const fn = find(FunctionName);
      let result: unknown;
      try {
        result = await invoke(fn, Payload, { clientContext: clientContextOf(ClientContext) });
      } catch (error) {
        throw asFunctionError(error);
      }
      return { ExecutedVersion: '$LATEST', Payload: result, StatusCode: 200 };
    }
    if (resource.startsWith('arn:aws:lambda:'))
      return invoke(find(resource), input).catch((e) => {
        throw asFunctionError(e);
      });
    const action = SDK_ACTIONS[resource as keyof typeof SDK_ACTIONS];
    if (action && services.s3) {
      // SDK integrations fail with the service's error name, prefixed with the service's.
      return action(services.s3, input).catch((e: Error) => {
        throw namedError(`S3.${e.name}`, e.message);
      });
    }
    throw namedError('States.Runtime', `The local runtime cannot run Task resource ${resource}`);
  };
};

/** A function error reaches the workflow named by its errorType, the cause a JSON document,
 * as with Lambda; service errors (Lambda.*, Sandbox.*) keep their names. */
const asFunctionError = (error: unknown) => {
  const e = error instanceof Error ? error : new Error(String(error));
  if (/^(Lambda|Sandbox)\./.test(e.name)) return e;
  return namedError(e.name, JSON.stringify({ errorType: e.name, errorMessage: e.message }));
};
