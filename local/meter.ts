/**
 * What a run of the local runtime would be billed for in AWS, counted as it happens: the
 * inputs of the cost model (bench/cost.ts multiplies them by bench/prices.ts). Durations are
 * this machine's, so the GB-second figures are estimates of the cloud's.
 */
import type { S3Client } from '@aws-sdk/client-s3';

export interface Usage {
  apiRequests: number;
  /** Per function name: invocations and summed duration, billed at the configured memory. */
  lambda: Record<string, { invocations: number; durationMs: number; memoryMb: number }>;
  expressRequests: number;
  /** Express duration as billed: each run rounded up to the next 100 ms. */
  expressBilledMs: number;
  standardTransitions: number;
  s3: { put: number; get: number; delete: number; other: number };
  /** Bytes the workflows would send to CloudWatch Logs at level ALL with execution data. */
  workflowLogBytes: number;
}

const emptyUsage = (): Usage => ({
  apiRequests: 0,
  lambda: {},
  expressRequests: 0,
  expressBilledMs: 0,
  standardTransitions: 0,
  s3: { put: 0, get: 0, delete: 0, other: 0 },
  workflowLogBytes: 0,
});

/** Calls `count` with the command name of every request the client sends: S3 bills by request.
 * The runtime counts into its Meter; a Lambda sandbox's worker thread reports to the runtime. */
export const countRequests = (client: S3Client, count: (command: string) => void) => {
  client.middlewareStack.add(
    (next, context) => (args) => {
      count(context.commandName ?? '');
      return next(args);
    },
    { step: 'initialize', name: 'localMeter' },
  );
  return client;
};

export class Meter {
  usage: Usage = emptyUsage();

  reset() {
    this.usage = emptyUsage();
  }

  invocation(name: string, memoryMb: number, durationMs: number) {
    this.usage.lambda[name] ??= { invocations: 0, durationMs: 0, memoryMb };
    const entry = this.usage.lambda[name];
    entry.invocations += 1;
    entry.durationMs += durationMs;
  }

  /** S3 bills PUT, COPY, POST and LIST alike, GET and the rest alike; DELETE is free. */
  s3Request(command: string) {
    const s3 = this.usage.s3;
    if (command === 'PutObjectCommand') s3.put += 1;
    else if (command === 'GetObjectCommand') s3.get += 1;
    else if (/^DeleteObjects?Command$/.test(command)) s3.delete += 1;
    else s3.other += 1;
  }
}
