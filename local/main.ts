/** `npm start`: the service on this machine, no AWS account. PORT, SFN_PORT, S3_PORT and HOST
 * override the addresses; LOCAL_STATE_DIR the folder where runs and staged objects survive
 * restarts (`.local/` at the project root, git-ignored). */
import path from 'node:path';
import { startRuntime } from './runtime.ts';

const port = (name: string, fallback: number) => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 65_535) {
    console.error(`${name} must be a port number, not "${raw}"`);
    process.exit(2);
  }
  return value;
};

const host = process.env.HOST || '127.0.0.1';
const stateDir = path.resolve(
  process.env.LOCAL_STATE_DIR || path.join(import.meta.dirname, '..', '.local'),
);
let runtime: Awaited<ReturnType<typeof startRuntime>>;
try {
  runtime = await startRuntime({
    host,
    port: port('PORT', 3000),
    sfnPort: port('SFN_PORT', 8083),
    s3Port: port('S3_PORT', 4568),
    logRequests: true,
    stateDir,
  });
} catch (error) {
  const e = error as NodeJS.ErrnoException & { port?: number };
  if (e.code === 'EADDRINUSE') {
    console.error(`Port ${e.port} is in use: set PORT, SFN_PORT or S3_PORT to free ones.`);
    process.exit(1);
  }
  throw error;
}

// The README's sample photo, as a path from where the user stands (npm runs from the root).
const sample = path.relative(
  process.cwd(),
  path.join(import.meta.dirname, '..', 'test', 'fixtures', 'images', 'photo_400x600.jpg'),
);
console.log(`
Image batch API        ${runtime.apiUrl}   (POST /shape, /nbytes, /analyze, /batches)
Step Functions (local) ${runtime.sfnUrl}   (AWS JSON protocol; open it in a browser to see runs)
S3 (local)             ${runtime.s3Url}   (bucket ${runtime.stagingBucket}: where images wait)
Local state            ${path.relative(process.cwd(), stateDir) || '.'}   (runs and staged objects, kept across restarts)

Try:
  curl "${runtime.apiUrl}/shape" -F "image=@${sample}"
  curl "${runtime.apiUrl}/nbytes" -F "image=@${sample}"
  curl "${runtime.apiUrl}/shape" -H "Content-Type: image/jpeg" --data-binary "@${sample}"
  curl "${runtime.apiUrl}/shape" -H "Prefer: respond-async" -F "image=@${sample}"
  aws --endpoint-url ${runtime.sfnUrl} --region us-east-1 --no-sign-request stepfunctions list-state-machines

Ctrl-C stops.`);

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) process.exit(130);
  stopping = true;
  console.log(`\n${signal}: stopping…`);
  await runtime.close();
  process.exit(0);
};
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
