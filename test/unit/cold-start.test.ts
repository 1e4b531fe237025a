/**
 * The deployed handlers build themselves from the environment at their first invocation (the
 * cold start). A build that failed is not kept: the next invocation builds again, as a fresh
 * Lambda environment would, instead of failing every request until the environment is recycled.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { handler } from '../../lambdas/ingest/handler.ts';
import { lambdaContext, restEvent } from '../support/events.ts';

const CONFIG = {
  SYNC_STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:000000000000:stateMachine:Sync',
  ASYNC_STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:000000000000:stateMachine:Async',
  STAGING_BUCKET: 'staging',
};

afterEach(() => vi.unstubAllEnvs());

describe('the deployed ingest handler', () => {
  it('fails its cold start naming the missing variable, then builds again once it is set', async () => {
    for (const name of Object.keys(CONFIG)) vi.stubEnv(name, undefined);
    vi.stubEnv('AWS_REGION', 'us-east-1');
    // A route that needs no AWS call: an unknown path answers the ingest's own JSON 404.
    const event = restEvent({ path: '/nowhere', method: 'GET' });
    await expect(handler(event, lambdaContext())).rejects.toThrow(/SYNC_STATE_MACHINE_ARN/);

    for (const [name, value] of Object.entries(CONFIG)) vi.stubEnv(name, value);
    const answer = await handler(event, lambdaContext());
    expect(answer.statusCode).toBe(404);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'NOT_FOUND' } });
  });
});
