import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';

/** Endpoints come from the standard variables (AWS_ENDPOINT_URL_SFN, AWS_ENDPOINT_URL, …). */
const endpointOverridden = (service: string) =>
  Boolean(process.env[`AWS_ENDPOINT_URL_${service}`] ?? process.env.AWS_ENDPOINT_URL);

/**
 * StartSyncExecution is served from `sync-states.<region>…`: the SDK prepends "sync-" to the
 * host. On an overridden endpoint (the local runtime) that prefix would break the host name.
 */
export const createSfnClient = () =>
  new SFNClient({ disableHostPrefix: endpointOverridden('SFN') });

export const createS3Client = () => new S3Client({ forcePathStyle: endpointOverridden('S3') });
