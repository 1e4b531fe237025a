/** What the large-batch route's unit tests share: the ingest's config with every large-batch
 * setting, its state machine, a batch id, and the ingest handler over clients that the tests'
 * aws-sdk-client-mock fakes answer. */
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { createHandler } from '../../lambdas/ingest/handler.ts';
import { DEFAULT_LIMITS, type IngestConfig } from '../../lambdas/shared/config.ts';
import { createLogger } from '../../lambdas/shared/logger.ts';

export const LARGE_MACHINE = 'arn:aws:states:us-east-1:000000000000:stateMachine:ImageBatchLarge';

export const largeBatchConfig: IngestConfig = {
  ...DEFAULT_LIMITS,
  syncStateMachineArn: `${LARGE_MACHINE}-sync`,
  asyncStateMachineArn: `${LARGE_MACHINE}-async`,
  largeBatchStateMachineArn: LARGE_MACHINE,
  // Not the stack's default share (10), so that a value from elsewhere would show.
  largeBatchMaxConcurrency: 7,
  stagingBucket: 'staging-bucket',
};

export const BATCH_ID = '0b7f3c1e-5d2a-4c8e-9f10-2a3b4c5d6e7f';

export const largeBatchClients = {
  sfn: new SFNClient({ region: 'us-east-1' }),
  // Static credentials: presigning is local computation, nothing is sent.
  s3: new S3Client({
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
  }),
};

export const largeBatchHandler = (config: IngestConfig = largeBatchConfig) =>
  createHandler({ config, ...largeBatchClients, logger: createLogger('image-ingest') });
