/**
 * SigV4 for APIs deployed with IAM auth (`cdk deploy -c auth=iam`): credentials from the
 * standard AWS chain (environment, shared config and SSO, web identity, container and
 * instance roles), signatures from Smithy's signer, the one the AWS SDK itself uses.
 */
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';

type Credentials = ConstructorParameters<typeof SignatureV4>[0]['credentials'];

export interface SignableRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body?: Uint8Array;
}

/** Signs a request; answers the headers to send (Authorization, X-Amz-Date, the session token). */
export type Signer = (
  request: SignableRequest,
  signingDate?: Date,
) => Promise<Record<string, string>>;

/** `abc123.execute-api.eu-west-1.amazonaws.com` → `eu-west-1`; custom domains need AWS_REGION. */
export const regionOf = (url: URL, env: Record<string, string | undefined>) =>
  /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/.exec(url.hostname)?.[1] ??
  env.AWS_REGION ??
  env.AWS_DEFAULT_REGION;

export const createSigner = ({
  region,
  credentials = fromNodeProviderChain(),
  service = 'execute-api',
}: {
  region: string;
  credentials?: Credentials;
  service?: string;
}): Signer => {
  // API Gateway does not need X-Amz-Content-Sha256: the payload hash is signed either way.
  const signer = new SignatureV4({
    service,
    region,
    credentials,
    sha256: Hash.bind(null, 'sha256'),
    applyChecksum: false,
  });
  return async ({ method, url, headers, body }, signingDate) => {
    const signed = await signer.sign(
      {
        method,
        protocol: url.protocol,
        hostname: url.hostname,
        ...(url.port && { port: Number(url.port) }),
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers: { ...headers, host: url.host },
        body,
      },
      signingDate && { signingDate },
    );
    // fetch sends Host from the URL itself, the same value that was signed.
    const { host: _host, ...rest } = signed.headers;
    return rest;
  };
};
