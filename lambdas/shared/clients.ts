import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { endpointOverride } from './config.ts';

/** What the local runtime passes to reach its own endpoints; in Lambda everything comes from
 * the environment (region, role credentials, AWS_ENDPOINT_URL_* if set). */
export interface ClientOptions {
  endpoint?: string;
  region?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

/** Endpoints may also come from the standard variables (AWS_ENDPOINT_URL_SFN, …). */
const overridden = (service: string, options: ClientOptions) =>
  Boolean(options.endpoint ?? endpointOverride(service));

/**
 * StartSyncExecution is served from `sync-states.<region>…`: the SDK prepends "sync-" to the
 * host. On an overridden endpoint (the local runtime) that prefix would break the host name.
 */
export const createSfnClient = (options: ClientOptions = {}) =>
  new SFNClient({ ...options, disableHostPrefix: overridden('SFN', options) });

export const createS3Client = (options: ClientOptions = {}) =>
  new S3Client({ ...options, forcePathStyle: overridden('S3', options) });
