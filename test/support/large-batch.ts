/** What the large-batch route's unit tests share: the ingest's config with every large-batch
 * setting, its state machine and a batch id. */
import { DEFAULT_LIMITS, type IngestConfig } from '../../lambdas/shared/config.ts';

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
