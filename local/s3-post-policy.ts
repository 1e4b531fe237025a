/**
 * The POST policy check S3 makes on a browser-form upload, which s3rver skips (it stores the
 * `file` whatever the `policy` says). In front of s3rver's POST Object, this checks what S3
 * checks, as S3 answers it:
 * - the SigV4 signature of the policy (X-Amz-Signature over the base64 policy, with the key
 *   derived from the X-Amz-Credential scope and the local S3's secret);
 * - the expiration (403 AccessDenied "Invalid according to Policy: Policy expired.");
 * - every condition: exact matches (`{"field": value}`, `["eq", "$field", value]`),
 *   `["starts-with", "$field", prefix]` and `["content-length-range", min, max]` on the file
 *   (400 EntityTooLarge / EntityTooSmall), the bucket included;
 * - every form field other than file, policy, x-amz-signature and x-ignore-* must be named by a
 *   condition (403 "Extra input fields").
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-authentication-HTTPPOST.html
 */
import { createHmac } from 'node:crypto';
import { Readable } from 'node:stream';

interface KoaContext {
  method: string;
  path: string;
  req: Readable & { headers: Record<string, string | string[] | undefined> };
  status: number;
  type: string;
  body: unknown;
}

type Condition = Record<string, string> | [string, string | number, string | number];

class PolicyError extends Error {
  readonly status: number;
  readonly code: string;
  readonly extra: Record<string, string | number>;
  constructor(
    status: number,
    code: string,
    message: string,
    extra: Record<string, string | number> = {},
  ) {
    super(message);
    this.status = status;
    this.code = code;
    this.extra = extra;
  }
}

const xml = (error: PolicyError) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${error.code}</Code><Message>${error.message
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')}</Message>${Object.entries(error.extra)
    .map(([k, v]) => `<${k}>${v}</${k}>`)
    .join('')}</Error>`;

const hmac = (key: Buffer | string, data: string) =>
  createHmac('sha256', key).update(data).digest();

const denied = (message: string) =>
  new PolicyError(403, 'AccessDenied', `Invalid according to Policy: ${message}`);

/** Throws the error S3 would answer with, or returns when the upload may go in. */
export const checkPostPolicy = (
  fields: Map<string, string>,
  fileSize: number,
  {
    bucket,
    secretAccessKey,
    now = Date.now(),
  }: { bucket: string; secretAccessKey: string; now?: number },
) => {
  const policyB64 = fields.get('policy');
  const signature = fields.get('x-amz-signature');
  const credential = fields.get('x-amz-credential');
  if (!policyB64 || !signature || !credential)
    throw new PolicyError(
      403,
      'AccessDenied',
      'Bucket POST must contain policy, x-amz-credential and x-amz-signature fields.',
    );
  const [, date = '', region = '', service = ''] = credential.split('/');
  const key = hmac(
    hmac(hmac(hmac(`AWS4${secretAccessKey}`, date), region), service),
    'aws4_request',
  );
  if (hmac(key, policyB64).toString('hex') !== signature)
    throw new PolicyError(
      403,
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
    );
  const policy = JSON.parse(Buffer.from(policyB64, 'base64').toString()) as {
    expiration: string;
    conditions: Condition[];
  };
  if (!(Date.parse(policy.expiration) > now)) throw denied('Policy expired.');

  const value = (field: string) =>
    field.toLowerCase() === 'bucket' ? bucket : fields.get(field.toLowerCase());
  const named = new Set(['bucket']);
  for (const condition of policy.conditions) {
    if (!Array.isArray(condition)) {
      for (const [field, expected] of Object.entries(condition)) {
        named.add(field.toLowerCase());
        if (value(field) !== expected)
          throw denied(`Policy Condition failed: ["eq", "$${field}", "${expected}"]`);
      }
      continue;
    }
    const [op, a, b] = condition;
    if (op === 'content-length-range') {
      if (fileSize > Number(b))
        throw new PolicyError(
          400,
          'EntityTooLarge',
          'Your proposed upload exceeds the maximum allowed size',
          { ProposedSize: fileSize, MaxSizeAllowed: Number(b) },
        );
      if (fileSize < Number(a))
        throw new PolicyError(
          400,
          'EntityTooSmall',
          'Your proposed upload is smaller than the minimum allowed size',
          { ProposedSize: fileSize, MinSizeAllowed: Number(a) },
        );
      continue;
    }
    const field = String(a).replace(/^\$/, '');
    named.add(field.toLowerCase());
    const actual = value(field) ?? '';
    const holds = op === 'eq' ? actual === b : op === 'starts-with' && actual.startsWith(String(b));
    if (!holds) throw denied(`Policy Condition failed: ["${op}", "${a}", "${b}"]`);
  }
  const exempt = new Set(['policy', 'x-amz-signature', 'file']);
  const extra = [...fields.keys()].filter(
    (f) => !exempt.has(f) && !f.startsWith('x-ignore-') && !named.has(f),
  );
  if (extra.length) throw denied(`Extra input fields: ${extra.join(', ')}`);
};

/** A Koa middleware for s3rver: checks a form upload to `bucket`, then hands s3rver the same
 * body, buffered (at most the 50 MB a batch image may declare, plus the form). */
export const postPolicyMiddleware =
  ({ bucket, secretAccessKey }: { bucket: string; secretAccessKey: string }) =>
  async (ctx: KoaContext, next: () => Promise<void>) => {
    const contentType = String(ctx.req.headers['content-type'] ?? '');
    const isFormUpload =
      ctx.method === 'POST' &&
      /^\/[^/]+\/?$/.test(ctx.path) &&
      contentType.toLowerCase().startsWith('multipart/form-data');
    if (!isFormUpload) return next();
    const chunks: Buffer[] = [];
    for await (const chunk of ctx.req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    try {
      const form = await new Response(body, {
        headers: { 'content-type': contentType },
      }).formData();
      const fields = new Map<string, string>();
      let fileSize = -1;
      for (const [name, entry] of form) {
        if (name.toLowerCase() === 'file')
          fileSize = typeof entry === 'string' ? Buffer.byteLength(entry) : entry.size;
        else if (typeof entry === 'string') fields.set(name.toLowerCase(), entry);
      }
      if (ctx.path.replace(/\//g, '') === bucket && fileSize >= 0)
        checkPostPolicy(fields, fileSize, { bucket, secretAccessKey });
    } catch (error) {
      if (!(error instanceof PolicyError)) throw error;
      ctx.status = error.status;
      ctx.type = 'application/xml';
      ctx.body = xml(error);
      return;
    }
    // s3rver's POST Object pipes the request into its form parser: give it the same bytes,
    // already read, keeping the request itself (url, headers, socket) as it is.
    ctx.req.pipe = <T extends NodeJS.WritableStream>(destination: T) =>
      Readable.from([body]).pipe(destination);
    return next();
  };
