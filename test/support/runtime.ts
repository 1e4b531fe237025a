import { afterAll, beforeAll } from 'vitest';
import { type Runtime, startRuntime } from '../../local/runtime.ts';

/** The local runtime (`npm start`) on free ports for one test file, closed after it. */
export const useLocalRuntime = () => {
  let runtime: Runtime | undefined;
  beforeAll(async () => {
    runtime = await startRuntime({ port: 0, sfnPort: 0, s3Port: 0 });
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
