import { afterAll, beforeAll } from 'vitest';
import { type Runtime, type RuntimeOptions, startRuntime } from '../../local/runtime.ts';

/** The local runtime (`npm start`) on free ports for one test file, closed after it; `options`
 * as startRuntime takes them (the ingest's configuration, say). */
export const useLocalRuntime = (options: RuntimeOptions = {}) => {
  let runtime: Runtime | undefined;
  beforeAll(async () => {
    runtime = await startRuntime({ ...options, port: 0, sfnPort: 0, s3Port: 0 });
  });
  afterAll(() => runtime?.close());
  const started = () => {
    if (!runtime) throw new Error('the local runtime has not started');
    return runtime;
  };
  return {
    get runtime() {
      return started();
    },
    get api() {
      return started().apiUrl;
    },
  };
};
