import { Pool, PoolClient, QueryConfig } from 'pg';
import { WEBHOOKS_SCHEMA } from '../distribution/webhooks/webhook-store';
import { EVENT_LOG_SCHEMA } from '../event-store/postgres.event-store';
import { DECIDER_SNAPSHOTS_SCHEMA } from '../newsroom/snapshots';
import { PROJECTION_STATUS_SCHEMA } from '../projection-runner/projection-status';
import { advisoryLockHolder } from './advisory-lock-holder';
import { APPEND_ONLY_SCHEMA, grantToApplication } from './database-roles';
import { SERVER_KEYS_SCHEMA } from './server-keys';

interface Migration {
  id: string;
  sql: string;
}

/** Tables every deployment has, whichever store holds the events. Append only: never edit a shipped one. */
const MIGRATIONS: Migration[] = [
  {
    id: '001-idempotency-keys',
    sql: `CREATE TABLE IF NOT EXISTS idempotency_keys (
            actor_id     text NOT NULL,
            key          text NOT NULL,
            request_hash text NOT NULL,
            status       int  NOT NULL,
            response     jsonb NOT NULL,
            created_at   timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (actor_id, key)
          )`,
  },
  { id: '002-projection-status', sql: PROJECTION_STATUS_SCHEMA },
  {
    id: '003-projection-skips',
    sql: `CREATE TABLE IF NOT EXISTS projection_skips (
            name       text NOT NULL,
            position   numeric NOT NULL,
            event_id   uuid NOT NULL,
            event_type text NOT NULL,
            stream_id  text NOT NULL,
            reason     text NOT NULL,
            skipped_by text NOT NULL,
            skipped_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (name, position)
          )`,
  },
  { id: '004-decider-snapshots', sql: DECIDER_SNAPSHOTS_SCHEMA },
  { id: '006-command-id-key', sql: SERVER_KEYS_SCHEMA },
  {
    // A key is reserved (status NULL, an owner and a lease) before its request runs; see IdempotencyInterceptor.
    id: '007-idempotency-reservations',
    sql: `ALTER TABLE idempotency_keys
            ALTER COLUMN status DROP NOT NULL,
            ALTER COLUMN response DROP NOT NULL,
            ADD COLUMN IF NOT EXISTS headers jsonb,
            ADD COLUMN IF NOT EXISTS owner uuid,
            ADD COLUMN IF NOT EXISTS lease_until timestamptz`,
  },
  { id: '009-webhooks', sql: WEBHOOKS_SCHEMA },
];

const EVENT_LOG_MIGRATIONS: Migration[] = [
  { id: '001-event-log', sql: EVENT_LOG_SCHEMA },
  { id: '002-append-only', sql: APPEND_ONLY_SCHEMA },
];

export interface MigrateOptions {
  /** Whether Postgres holds the events (the event-log tables exist only then). */
  eventLog: boolean;
  /**
   * The role the application connects as, when migrations run as another (the owner): it gets
   * what it needs on every table, and on the event log only what an append needs.
   */
  appRole?: string;
  /** Where the line saying whose migrations this start waits for goes. */
  notice?: (line: string) => void;
}

const MIGRATIONS_LOCK = 'copydesk:migrations';
/** A migration may take long (an index over the whole log): far beyond the pool's bounds on an ordinary statement. */
const MIGRATION_TIMEOUT_MS = 6 * 60 * 60 * 1000;
/** How often a start waiting for another process's migrations tries the lock again, and after how long it says whom it waits for. */
const LOCK_RETRY_MS = 200;
const SAY_WAITING_AFTER_MS = 2000;

/**
 * Applies what is missing, once, under an advisory lock so that several processes starting
 * together do not race; then grants the application's role its privileges (every time: tables
 * that later migrations add are covered). A process that finds the lock taken waits for as long as
 * the other's migrations take, trying it again every 200 ms (never a statement outlasting the
 * pool's statement_timeout), and says once whose migrations it waits for.
 */
export async function migrate(pool: Pool, options: MigrateOptions): Promise<void> {
  const client = await pool.connect();
  let locked = false;
  try {
    await waitForLock(client, options.notice ?? (() => undefined));
    locked = true;
    await client.query('SET statement_timeout = 0');
    await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (id text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
    const { rows } = await client.query<{ id: string }>('SELECT id FROM schema_migrations');
    const applied = new Set(rows.map((r) => r.id));
    const wanted = [...(options.eventLog ? EVENT_LOG_MIGRATIONS.map((m) => ({ ...m, id: `event-log/${m.id}` })) : []), ...MIGRATIONS];
    for (const migration of wanted) {
      if (applied.has(migration.id)) continue;
      await client.query('BEGIN');
      try {
        await client.query({ text: migration.sql, query_timeout: MIGRATION_TIMEOUT_MS } as QueryConfig);
        await client.query('INSERT INTO schema_migrations (id) VALUES ($1)', [migration.id]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      }
    }
    const { rows: me } = await client.query<{ role: string }>('SELECT current_user AS role');
    if (options.appRole && options.appRole !== me[0].role) await grantToApplication(client, options.appRole);
  } finally {
    if (locked) {
      await client.query('RESET statement_timeout').catch(() => undefined);
      await client.query('SELECT pg_advisory_unlock(hashtext($1))', [MIGRATIONS_LOCK]).catch(() => undefined);
    }
    client.release();
  }
}

async function waitForLock(client: PoolClient, notice: (line: string) => void): Promise<void> {
  const started = Date.now();
  let said = false;
  for (;;) {
    const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS locked', [MIGRATIONS_LOCK]);
    if (rows[0].locked) return;
    if (!said && Date.now() - started >= SAY_WAITING_AFTER_MS) {
      const holder = await advisoryLockHolder(client, MIGRATIONS_LOCK);
      if (holder) notice(`copydesk: waiting for the migrations ${holder} is running on this database (another replica starting); it holds their lock`);
      said = holder !== undefined;
    }
    await new Promise((resolve) => setTimeout(resolve, LOCK_RETRY_MS));
  }
}
