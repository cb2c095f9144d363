import { BENCH_SECRET } from './paths';

/**
 * The environment of a child process: the embedded default on `dataDir` whatever the caller's
 * environment says (CI exports DATABASE_URL for the tests), EventStoreDB only when asked for.
 * `BENCH_CHILD_NODE_OPTIONS` becomes the children's NODE_OPTIONS (a heap limit for the servers and the
 * rebuild, say) without touching the benchmark's own process.
 */
export function childEnv(dataDir: string, extra: Record<string, string> = {}, eventStore?: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.DATABASE_URL;
  delete env.EVENTSTORE_CONNECTION_STRING;
  return {
    ...env,
    DATA_DIR: dataDir,
    AUTH_JWT_SECRET: BENCH_SECRET,
    LOG_LEVEL: 'error',
    ...(eventStore ? { EVENTSTORE_CONNECTION_STRING: eventStore } : {}),
    ...(process.env.BENCH_CHILD_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_CHILD_NODE_OPTIONS } : {}),
    ...extra,
  };
}
