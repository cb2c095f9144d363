import { Pool } from 'pg';
import { CopydeskConfig, resolveJwtSecret } from '../config/configuration';
import { createEventStore } from '../event-store/create-event-store';
import { EventStore } from '../event-store/event-store';
import { PG_TIMEOUTS } from '../event-store/postgres-timeouts';
import { EmbeddedPostgresHandle, startEmbeddedPostgres } from '../read-store/embedded-postgres';
import { migrate } from '../read-store/migrations';

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
