import { Pool } from 'pg';
import { CopydeskConfig, resolveJwtSecret } from '../config/configuration';
import { redactUrl } from '../config/redact-url';
import { createEventStore } from '../event-store/create-event-store';
import { EventStore } from '../event-store/event-store';
import { connectionName, PG_TIMEOUTS } from '../event-store/postgres-timeouts';
import { EmbeddedPostgresHandle, startEmbeddedPostgres } from '../read-store/embedded-postgres';
import { migrate } from '../read-store/migrations';
import { loadCommandIdKey } from '../read-store/server-keys';

/** The real components a process needs, started in order and stopped in reverse. */
export interface Runtime {
  config: CopydeskConfig;
  databaseUrl: string;
  /** Where the data lives, for the operator (never a password): the embedded cluster or the URL. */
  database: string;
  pool: Pool;
  eventStore: EventStore;
  /** Read (and, the first time, generated into `DATA_DIR`) when first used: only what serves HTTP needs it. */
  jwtSecret: string;
  /** The key command ids are derived with, shared by every replica (see `keyedCommandId`). */
  commandIdKey: Buffer;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  /** False: refuse to make a new embedded cluster (read-only commands). Default true. */
  create?: boolean;
  /** Where one-line notices and warnings go; stderr unless LOG_LEVEL is `error` or `silent`. */
  notice?: (line: string) => void;
}

export function createPool(databaseUrl: string, max = 20): Pool {
  const pool = new Pool({
    connectionString: databaseUrl,
    max,
    idleTimeoutMillis: 30000,
    application_name: connectionName(),
    ...PG_TIMEOUTS,
  });
  // An idle client losing its server is reported on the next query; do not crash the process.
  pool.on('error', () => undefined);
  return pool;
}

const QUIET_LEVELS = new Set(['silent', 'fatal', 'error']);

export async function startRuntime(config: CopydeskConfig, options: RuntimeOptions = {}): Promise<Runtime> {
  const notice = options.notice ?? ((line: string) => void (QUIET_LEVELS.has(config.logLevel) ? undefined : process.stderr.write(`${line}\n`)));
  let embedded: EmbeddedPostgresHandle | undefined;
  if (!config.databaseUrl) embedded = await startEmbeddedPostgres(config.dataDir, 'copydesk', { create: options.create ?? true, notice });
  const databaseUrl = config.databaseUrl ?? embedded!.url;
  const ownerUrl = config.databaseUrl ? config.databaseOwnerUrl : embedded!.ownerUrl;
  const pool = createPool(databaseUrl);
  let commandIdKey: Buffer;
  try {
    await migrateAs(ownerUrl, pool, !config.eventStoreConnectionString, notice);
    commandIdKey = await loadCommandIdKey(pool);
  } catch (error) {
    await pool.end();
    await embedded?.stop();
    throw error;
  }
  const eventStore = createEventStore({ eventStoreConnectionString: config.eventStoreConnectionString, pool, databaseUrl });
  let jwtSecret: string | undefined;
  let closed: Promise<void> | undefined;
  return {
    config,
    databaseUrl,
    database: embedded
      ? `embedded PostgreSQL, cluster ${embedded.clusterDir}, 127.0.0.1:${embedded.port}${embedded.attached ? ' (run by another copydesk process)' : ''}`
      : `DATABASE_URL ${redactUrl(databaseUrl)}${ownerUrl ? `, migrations as DATABASE_OWNER_URL ${redactUrl(ownerUrl)}` : ''}`,
    pool,
    eventStore,
    get jwtSecret() {
      return (jwtSecret ??= resolveJwtSecret(config));
    },
    commandIdKey,
    // Once, however many ask (a signal's handler and the code it interrupted may both close), and the
    // embedded PostgreSQL is stopped even when closing the rest fails.
    close: () =>
      (closed ??= (async () => {
        try {
          try {
            await eventStore.close();
          } finally {
            await pool.end();
          }
        } finally {
          await embedded?.stop();
        }
      })()),
  };
}

/**
 * Migrations run as the owner (the embedded superuser, or DATABASE_OWNER_URL), which then grants
 * the application's role what it needs. Without an owner they run as the application's role,
 * which then owns the event log: its triggers still refuse edits, but that role could drop them.
 */
async function migrateAs(ownerUrl: string | undefined, pool: Pool, eventLog: boolean, notice: (line: string) => void): Promise<void> {
  const { rows } = await pool.query<{ role: string; superuser: boolean }>(
    'SELECT current_user AS role, rolsuper AS superuser FROM pg_roles WHERE rolname = current_user',
  );
  const app = rows[0];
  if (!ownerUrl) {
    await migrate(pool, { eventLog, notice });
    notice(
      app.superuser
        ? `copydesk: warning: DATABASE_URL logs in as the superuser ${app.role}, which can rewrite the event log and disable its triggers; give the application a role of its own and set DATABASE_OWNER_URL (README, "An external PostgreSQL")`
        : `copydesk: warning: without DATABASE_OWNER_URL, migrations run as DATABASE_URL's role ${app.role}, which then owns the event log and could drop the triggers that keep it append-only (README, "An external PostgreSQL")`,
    );
    return;
  }
  const owner = new Pool({ connectionString: ownerUrl, max: 1, connectionTimeoutMillis: 10_000, application_name: connectionName() });
  owner.on('error', () => undefined);
  try {
    await migrate(owner, { eventLog, appRole: app.role, notice });
  } finally {
    await owner.end();
  }
  if (app.superuser)
    notice(`copydesk: warning: DATABASE_URL logs in as the superuser ${app.role}, which can rewrite the event log and disable its triggers; give the application a role of its own (README, "An external PostgreSQL")`);
}
