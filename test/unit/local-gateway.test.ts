/**
 * The local API Gateway over real HTTP on loopback, with a recording handler behind it: the
 * proxy event it builds and the limits it enforces, as API Gateway does them.
 */
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { type Handler, invoke, JsonPayload, type LocalFunction } from '../../local/functions.ts';
import { createGateway } from '../../local/gateway.ts';
import { encodeForm } from '../support/events.ts';
import { fixtureImage } from '../support/fixtures.ts';

type Invoke = (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;
const servers: ReturnType<typeof createGateway>[] = [];

/** The gateway in front of a handler invoked as the local runtime invokes the ingest Lambda:
 * with the event's JSON text as the gateway writes it, parsed into the handler's copy. */
const serve = async (handler: Invoke, timeoutMs?: number) => {
  const fn: LocalFunction = {
    name: 'ingest',
    arn: 'arn:aws:lambda:us-east-1:000000000000:function:ingest',
    handler: handler as unknown as Handler,
    timeoutSeconds: 29,
    memoryMb: 512,
  };
  const server = createGateway({
    invoke: (_event, text) => invoke(fn, new JsonPayload(text)) as Promise<APIGatewayProxyResult>,
    timeoutMs,
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
};

const recording = () => {
  const events: APIGatewayProxyEvent[] = [];
  const invoke: Invoke = async (event) => {
    events.push(event);
    return { statusCode: 200, headers: { 'Content-Type': 'application/json' }, body: '{"ok":1}' };
  };
  return { events, invoke };
};

afterEach(async () => {
  await Promise.all(
    servers.splice(0).map(
      (s) =>
        new Promise((resolve) => {
          s.close(resolve);
          s.closeAllConnections();
        }),
    ),
  );
});

describe('local gateway: the proxy event', () => {
  it('base64-encodes a multipart body, as a binary media type', async () => {
    const { events, invoke } = recording();
    const url = await serve(invoke);
    const { body, contentType } = await encodeForm([
      { content: fixtureImage('photo_400x600.jpg') },
    ]);
    const res = await fetch(`${url}/shape?x=1&x=2`, {
      method: 'POST',
      body,
      headers: { 'content-type': contentType, 'X-Custom': 'yes' },
    });
    expect(res.status).toBe(200);
    const [event] = events;
    expect(event).toMatchObject({
      httpMethod: 'POST',
      path: '/shape',
      resource: '/shape',
      isBase64Encoded: true,
      queryStringParameters: { x: '2' },
      multiValueQueryStringParameters: { x: ['1', '2'] },
      requestContext: { stage: 'local', resourcePath: '/shape', httpMethod: 'POST' },
    });
    expect(Buffer.from(event?.body ?? '', 'base64').equals(body)).toBe(true);
    expect(event?.headers['X-Custom']).toBe('yes');
  });

  it('passes a JSON body as text and fills path parameters from the route', async () => {
    const { events, invoke } = recording();
    const url = await serve(invoke);
    await fetch(`${url}/executions/abc-123`, { method: 'GET' });
    await fetch(`${url}/anything`, {
      method: 'POST',
      body: '{"a":1}',
      headers: { 'content-type': 'application/json' },
    });
    expect(events[0]).toMatchObject({
      resource: '/executions/{id}',
      pathParameters: { id: 'abc-123' },
      body: null,
    });
    expect(events[1]).toMatchObject({
      resource: '/{proxy+}',
      body: '{"a":1}',
      isBase64Encoded: false,
    });
  });
});

describe('local gateway: the event as JSON', () => {
  it('writes the JSON text of the event it built, base64, text and empty bodies alike', async () => {
    const seen: { event: APIGatewayProxyEvent; text: string }[] = [];
    const server = createGateway({
      invoke: async (event, text) => {
        seen.push({ event, text });
        return { statusCode: 200, body: '' };
      },
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const { body, contentType } = await encodeForm([
      { content: fixtureImage('photo_400x600.jpg'), filename: 'a "quoted" name.jpg' },
    ]);
    await fetch(`${url}/shape`, { method: 'POST', body, headers: { 'content-type': contentType } });
    await fetch(`${url}/x`, {
      method: 'POST',
      body: '{"quote":"\\"","line":"a\nb","é":1}',
      headers: { 'content-type': 'application/json', 'X-Odd': 'say "hi"' },
    });
    await fetch(`${url}/executions/abc`);
    expect(seen.map(({ event }) => event.isBase64Encoded)).toEqual([true, false, false]);
    for (const { event, text } of seen) expect(JSON.parse(text)).toEqual(event);
  });
});

describe('local gateway: the limits', () => {
  it('returns 413 when the body exceeds 10 MB, without invoking the handler', async () => {
    const { events, invoke } = recording();
    const url = await serve(invoke);
    const res = await fetch(`${url}/shape`, {
      method: 'POST',
      body: Buffer.alloc(10 * 1024 * 1024 + 1),
      headers: { 'content-type': 'image/jpeg' },
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({
      error: { code: 'PAYLOAD_TOO_LARGE', message: expect.stringContaining('10 MB') },
    });
    expect(events).toHaveLength(0);
  });

  it('returns 413 when the base64 event would pass Lambda’s 6 MB', async () => {
    const { events, invoke } = recording();
    const url = await serve(invoke);
    const res = await fetch(`${url}/shape`, {
      method: 'POST',
      body: Buffer.alloc(5 * 1024 * 1024),
      headers: { 'content-type': 'image/jpeg' },
    });
    expect(res.status).toBe(413);
    expect(events).toHaveLength(0);
  });

  it('returns 504 when the handler outlives the integration timeout', async () => {
    const url = await serve(() => new Promise(() => undefined), 150);
    const res = await fetch(`${url}/shape`, { method: 'POST' });
    expect(res.status).toBe(504);
    expect(res.headers.get('x-amzn-errortype')).toBe('INTEGRATION_TIMEOUT');
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('GATEWAY_TIMEOUT');
  });

  it('returns 502 when the handler throws or answers something that is not a proxy result', async () => {
    const throwing = await serve(async () => {
      throw new Error('boom');
    });
    const original = console.error;
    console.error = () => undefined;
    try {
      const res = await fetch(`${throwing}/shape`, { method: 'POST' });
      expect(res.status).toBe(502);
      expect(await res.text()).not.toContain('boom');
    } finally {
      console.error = original;
    }
    const malformed = await serve(async () => ({ body: 'no status' }) as never);
    expect((await fetch(`${malformed}/shape`, { method: 'POST' })).status).toBe(502);
  });

  it('writes single and multi-value headers back', async () => {
    const url = await serve(async () => ({
      statusCode: 201,
      headers: { 'X-One': '1' },
      multiValueHeaders: { 'Set-Cookie': ['a=1', 'b=2'] },
      body: Buffer.from('bin').toString('base64'),
      isBase64Encoded: true,
    }));
    const res = await fetch(`${url}/shape`, { method: 'POST' });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-one')).toBe('1');
    expect(res.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    expect(await res.text()).toBe('bin');
  });
});
