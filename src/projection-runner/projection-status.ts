import { createHash } from 'node:crypto';
import { Pool, PoolClient, QueryConfig } from 'pg';
import { Projection, qualify, quoteIdent, tableNames } from '../../projections/projection';
import { isConnectionError } from '../event-store/postgres-errors';

/**
 * One row per projection: which schema holds its live tables, the checkpoint (the position of the
 * last event applied there, written in the same transaction as the rows), the last failure, and
 * the rebuild in progress beside it, if any. Retired schemas are dropped after a grace period so
 * that a reader that has just looked up the old schema can still finish its statement.
 */
export const PROJECTION_STATUS_SCHEMA = `
CREATE TABLE IF NOT EXISTS projection_status (
  name                 text PRIMARY KEY,
  version              integer NOT NULL,
  schema_name          text NOT NULL,
  position             numeric,
  error                jsonb,
  build_error          jsonb,
  build_schema         text,
  build_version        integer,
  build_position       numeric,
  build_target         numeric,
  build_done           bigint NOT NULL DEFAULT 0,
  build_total          bigint,
  build_started_at     timestamptz,
  rebuild_requested_at timestamptz,
  rebuilt_at           timestamptz,
  updated_at           timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS projection_retired_schemas (
  schema_name text PRIMARY KEY,
  retired_at  timestamptz NOT NULL DEFAULT now()
);
CREATE SEQUENCE IF NOT EXISTS projection_build_seq;
`;

/** NOTIFY channel: `progress:<name>` after a committed batch, `rebuild:<name>` when a rebuild is asked for. */
export const PROJECTIONS_CHANNEL = 'copydesk_projections';

export interface ProjectionFailure {
  phase: 'live' | 'rebuild';
  position: string;
  eventId: string;
  eventType: string;
  streamId: string;
  message: string;
  at: string;
}

export interface StatusRow {
  name: string;
  version: number;
  schema_name: string;
  position: string | null;
  /** The live tables' failure, if their last batch failed. */
  error: ProjectionFailure | null;
  /** The rebuild's failure, if its last batch failed. */
  build_error: ProjectionFailure | null;
  build_schema: string | null;
  build_version: number | null;
  build_position: string | null;
  build_target: string | null;
  build_done: string;
  build_total: string | null;
  build_started_at: Date | null;
  rebuild_requested_at: Date | null;
  rebuilt_at: Date | null;
  updated_at: Date;
}

const NAME = /^[a-z][a-z0-9_]{0,40}$/;

export function assertProjectionName(name: string): void {
  if (!NAME.test(name)) throw new Error(`projection name ${JSON.stringify(name)} must match ${NAME}`);
}

/** Advisory-lock keys (two int4s): a fixed namespace and a stable hash of the projection's name. */
export const LOCK_NAMESPACE = 0x43445052;
export function lockKey(name: string): number {
  return createHash('sha1').update(`copydesk:projection:${name}`).digest().readUInt32BE(0) & 0x7fffffff;
}
const INIT_LOCK = lockKey('(init)');

export async function loadStatus(db: Pool | PoolClient, name: string, forUpdate = false): Promise<StatusRow> {
  const { rows } = await db.query<StatusRow>(`SELECT * FROM projection_status WHERE name = $1${forUpdate ? ' FOR UPDATE' : ''}`, [name]);
  if (rows.length === 0) throw new Error(`projection ${name} has no status row; was the runner started?`);
  return rows[0];
}

export async function loadStatuses(db: Pool | PoolClient, names: readonly string[]): Promise<StatusRow[]> {
  const { rows } = await db.query<StatusRow>(`SELECT * FROM projection_status WHERE name = ANY($1) ORDER BY name`, [names]);
  return rows;
}

/**
 * Creates a fresh schema holding the projection's tables: `rm_<name>_v<version>_<build>`. A build
 * that will be filled from the whole log gets its `indexes` only when it is full (`createIndexes`,
 * before the swap): building an index once over the rows is several times cheaper than keeping it up
 * to date through a million inserts. The tables' own keys come at once.
 */
export async function createBuildSchema(client: PoolClient, projection: Projection, options: { deferIndexes?: boolean } = {}): Promise<string> {
  const { rows } = await client.query<{ n: string }>(`SELECT nextval('projection_build_seq')::text AS n`);
  const schema = `rm_${projection.name}_v${projection.version}_${rows[0].n}`;
  const names = tableNames(projection);
  const indexes = projection.indexes ?? [];
  await client.query(`CREATE SCHEMA ${quoteIdent(schema)}`);
  for (const ddl of options.deferIndexes ? projection.tables : [...projection.tables, ...indexes]) await client.query(qualify(ddl, schema, names));
  return schema;
}

const INDEX_BUILD_TIMEOUT_MS = 6 * 60 * 60 * 1000;

/** The `indexes` of a build created with `deferIndexes` (idempotent: each is CREATE … IF NOT EXISTS). */
export async function createIndexes(pool: Pool, projection: Projection, schema: string): Promise<void> {
  const names = tableNames(projection);
  const indexes = projection.indexes ?? [];
  if (indexes.length === 0) return;
  await inTransaction(pool, async (client) => {
    // Over a whole log this takes longer than the pool's timeouts allow an ordinary query (the
    // server's statement_timeout, and the client's own query_timeout, which 0 would not lift).
    await client.query(`SET LOCAL statement_timeout = 0; SET LOCAL maintenance_work_mem = '256MB'`);
    for (const ddl of indexes) await client.query({ text: qualify(ddl, schema, names), query_timeout: INDEX_BUILD_TIMEOUT_MS } as QueryConfig);
  });
}

const ignore = () => undefined;

/**
 * A client of its own for a transaction. While checked out, a pool client has no 'error' listener,
 * and a connection that dies between two statements would crash the process: the error is taken
 * here and surfaces on the next statement instead.
 */
export async function checkout(pool: Pool): Promise<PoolClient & { done(error?: Error): void }> {
  const client = await pool.connect();
  client.on('error', ignore);
  return Object.assign(client, {
    done(error?: Error) {
      client.off('error', ignore);
      client.release(error);
    },
  });
}

/**
 * Runs `work` on one client of the pool; `work` opens and ends its own transaction. When it throws,
 * whatever is open is rolled back, and a client whose connection broke (or whose rollback failed) is
 * discarded rather than returned to the pool.
 */
export async function onClient<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await checkout(pool);
  let broken: Error | undefined;
  try {
    return await work(client);
  } catch (error) {
    if (isConnectionError(error)) broken = error as Error;
    await client.query('ROLLBACK').catch((rollbackError: Error) => (broken = rollbackError));
    throw error;
  } finally {
    client.done(broken);
  }
}

/** Runs `work` in one transaction on one client. */
export function inTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  return onClient(pool, async (client) => {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  });
}

/**
 * Gives every projection that has none a status row and empty live tables (position null: it
 * starts from the first event). Safe to run from several processes at once.
 */
export async function ensureInitialised(pool: Pool, projections: readonly Projection[]): Promise<void> {
  for (const projection of projections) assertProjectionName(projection.name);
  await inTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1, $2)', [LOCK_NAMESPACE, INIT_LOCK]);
    const { rows } = await client.query<{ name: string }>('SELECT name FROM projection_status WHERE name = ANY($1)', [projections.map((p) => p.name)]);
    const existing = new Set(rows.map((r) => r.name));
    for (const projection of projections) {
      if (existing.has(projection.name)) continue;
      const schema = await createBuildSchema(client, projection);
      await client.query('INSERT INTO projection_status (name, version, schema_name) VALUES ($1, $2, $3)', [projection.name, projection.version, schema]);
    }
  });
}

/** Drops schemas retired longer than `graceMs` ago. Never blocks for long: a busy schema is tried again later. */
export async function dropRetiredSchemas(pool: Pool, graceMs: number): Promise<string[]> {
  const { rows } = await pool.query<{ schema_name: string }>(
    `SELECT schema_name FROM projection_retired_schemas WHERE retired_at <= clock_timestamp() - make_interval(secs => $1::double precision / 1000)`,
    [graceMs],
  );
  const dropped: string[] = [];
  for (const { schema_name } of rows) {
    try {
      await inTransaction(pool, async (client) => {
        await client.query(`SET LOCAL lock_timeout = '2s'`);
        await client.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema_name)} CASCADE`);
        await client.query('DELETE FROM projection_retired_schemas WHERE schema_name = $1', [schema_name]);
      });
      dropped.push(schema_name);
    } catch {
      // still in use, or another process is dropping it: next time
    }
  }
  return dropped;
}
