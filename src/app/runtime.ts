import { Pool } from 'pg';
import { CopydeskConfig, resolveJwtSecret } from '../config/configuration';
import { createEventStore } from '../event-store/create-event-store';
import { EventStore } from '../event-store/event-store';
import { EmbeddedPostgresHandle, startEmbeddedPostgres } from '../read-store/embedded-postgres';
import { migrate } from '../read-store/migrations';

/**
 * Bounds on every conversation with PostgreSQL, so that a server that stops answering (hung, stopped,
 * a dropped route) costs a request at most ACQUIRE + QUERY ms, within API.md's 10 s:
 * - `connectionTimeoutMillis`: connecting, and waiting for a pooled connection;
 * - `statement_timeout`: a live but slow server cancels the statement itself (the connection stays);
 * - `query_timeout`: the client's own bound for a server that answers nothing at all (that connection is dropped);
 * - keepalive, so that a connection whose server vanished is noticed by the kernel;
 * - `idle_in_transaction_session_timeout`: a transaction whose client vanished mid-way does not hold its locks for long.
 */
export const PG_TIMEOUTS = {
  connectionTimeoutMillis: 3000,
  statement_timeout: 5000,
  query_timeout: 6000,
  keepAlive: true,
  keepAliveInitialDelayMillis: 10_000,
  idle_in_transaction_session_timeout: 60_000,
} as const;

/** The real components a process needs, started in order and stopped in reverse. */
export interface Runtime {
  config: CopydeskConfig;
  databaseUrl: string;
  pool: Pool;
  eventStore: EventStore;
  jwtSecret: string;
  close(): Promise<void>;
}

export function createPool(databaseUrl: string, max = 20): Pool {
  const pool = new Pool({
    connectionString: databaseUrl,
    max,
    idleTimeoutMillis: 30000,
    ...PG_TIMEOUTS,
  });
  // An idle client losing its server is reported on the next query; do not crash the process.
  pool.on('error', () => undefined);
  return pool;
}

export async function startRuntime(config: CopydeskConfig): Promise<Runtime> {
  let embedded: EmbeddedPostgresHandle | undefined;
  const databaseUrl = config.databaseUrl ?? (embedded = await startEmbeddedPostgres(config.dataDir)).url;
  const pool = createPool(databaseUrl);
  try {
    await migrate(pool, { eventLog: !config.eventStoreConnectionString });
  } catch (error) {
    await pool.end();
    await embedded?.stop();
    throw error;
  }
  const eventStore = createEventStore({ eventStoreConnectionString: config.eventStoreConnectionString, pool, databaseUrl });
  return {
    config,
    databaseUrl,
    pool,
    eventStore,
    jwtSecret: resolveJwtSecret(config),
    close: async () => {
      await eventStore.close();
      await pool.end();
      await embedded?.stop();
    },
  };
}
