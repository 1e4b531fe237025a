/**
 * SigV4 for IAM-auth APIs: the CLI's signer (Smithy's, credentials from the standard chain)
 * reproduces AWS's published test vector, and the signed headers reach the server with the
 * body they were computed over.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiClient } from '../../cli/http.ts';
import { createSigner, regionOf } from '../../cli/sigv4.ts';

const EXAMPLE = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
};

describe('the SigV4 signer', () => {
  it('gives the signature of the AWS test suite example "get-vanilla"', async () => {
    // https://docs.aws.amazon.com/general/latest/gr/signature-v4-test-suite.html (get-vanilla)
    const sign = createSigner({ region: 'us-east-1', service: 'service', credentials: EXAMPLE });
    const headers = await sign(
      { method: 'GET', url: new URL('https://example.amazonaws.com/'), headers: {} },
      new Date('2015-08-30T12:36:00Z'),
    );
    expect(headers['x-amz-date']).toBe('20150830T123600Z');
    expect(headers.authorization).toBe(
      'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, ' +
        'SignedHeaders=host;x-amz-date, ' +
        'Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
    );
  });

  it('signs the body: another body, another signature', async () => {
    const sign = createSigner({ region: 'eu-west-1', credentials: EXAMPLE });
    const url = new URL('https://abc123.execute-api.eu-west-1.amazonaws.com/prod/shape');
    const at = new Date('2026-01-01T00:00:00Z');
    const one = await sign({ method: 'POST', url, headers: {}, body: Buffer.from('a') }, at);
    const two = await sign({ method: 'POST', url, headers: {}, body: Buffer.from('b') }, at);
    expect(one.authorization).toContain('/eu-west-1/execute-api/aws4_request');
    expect(one.authorization).not.toBe(two.authorization);
  });

  it('reads the region from an execute-api host, else from AWS_REGION', () => {
    const api = new URL('https://abc123.execute-api.ap-southeast-2.amazonaws.com/prod');
    expect(regionOf(api, {})).toBe('ap-southeast-2');
    expect(regionOf(new URL('https://images.example.com'), { AWS_REGION: 'us-west-2' })).toBe(
      'us-west-2',
    );
    expect(regionOf(new URL('https://images.example.com'), {})).toBeUndefined();
  });
});

describe('a signed request on the wire', () => {
  let server: http.Server | undefined;
  afterEach(
    () => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())),
  );

  it('carries the signature, the session token from the credential chain and the body', async () => {
    const seen: { headers: http.IncomingHttpHeaders; body: string }[] = [];
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      req.on('end', () => {
        seen.push({ headers: req.headers, body });
        res.setHeader('content-type', 'application/json');
        res.end('[[1,1]]');
      });
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    // The standard chain's first link: the environment (set here, then restored).
    const saved = { ...process.env };
    Object.assign(process.env, {
      AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
      AWS_SECRET_ACCESS_KEY: EXAMPLE.secretAccessKey,
      AWS_SESSION_TOKEN: 'session-token-example',
    });
    // A profile, if the developer has one set, would take precedence over the environment.
    delete process.env.AWS_PROFILE;
    try {
      const client = new ApiClient(`http://127.0.0.1:${port}/prod`, {
        signer: createSigner({ region: 'eu-west-1' }),
      });
      const answer = await client.request('POST', '/shape', {
        body: Buffer.from('--x\r\n'),
        headers: { 'content-type': 'multipart/form-data; boundary=x' },
        onUpload: () => undefined,
      });
      expect(answer.body).toEqual([[1, 1]]);
    } finally {
      process.env = saved;
    }
    const [request] = seen;
    expect(request?.body).toBe('--x\r\n');
    expect(request?.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=accept;content-length;content-type;host;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$/,
    );
    expect(request?.headers['x-amz-security-token']).toBe('session-token-example');
  });
});
