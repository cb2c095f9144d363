import { Pool } from 'pg';
import { PROJECTIONS } from '../../projections';
import { Projection } from '../../projections/projection';
import { PostgresEventStore } from '../../src/event-store/postgres.event-store';
import { ProjectionRunner, ProjectionRunnerOptions } from '../../src/projection-runner/projection-runner';
import { RunnerLogger } from '../../src/projection-runner/projection-worker';
import { migrate } from '../../src/read-store/migrations';
import { createTestDatabase, TestDatabase } from './database';

export const SILENT: RunnerLogger = { log: () => undefined, warn: () => undefined, error: () => undefined };

export interface ReadSideDb {
  db: TestDatabase;
  pool: Pool;
  store: PostgresEventStore;
  runner(options?: Partial<ProjectionRunnerOptions>): ProjectionRunner;
  close(): Promise<void>;
}

/** A fresh database with the event log and the projection tables, and runners on it (stopped on close). */
export async function readSideDb(): Promise<ReadSideDb> {
  const db = await createTestDatabase();
  const pool = new Pool({ connectionString: db.url, max: 10 });
  pool.on('error', () => undefined);
  await migrate(pool, { eventLog: true });
  const store = new PostgresEventStore(pool, db.url);
  const runners: ProjectionRunner[] = [];
  return {
    db,
    pool,
    store,
    runner: (options = {}) => {
      const runner = new ProjectionRunner({
        store,
        pool,
        databaseUrl: db.url,
        projections: PROJECTIONS,
        standbyPollMs: 100,
        retryBaseMs: 50,
        retryMaxMs: 400,
        retiredSchemaGraceMs: 60_000,
        logger: SILENT,
        ...options,
      });
      runners.push(runner);
      return runner;
    },
    close: async () => {
      for (const runner of runners) await runner.stop();
      await store.close();
      await pool.end();
      await db.drop();
    },
  };
}

/** Every row of every table of the projection's live schema, as text, in a stable order. */
export async function dumpModel(pool: Pool, projection: Projection, schema?: string): Promise<Record<string, string[]>> {
  const live =
    schema ?? (await pool.query<{ schema_name: string }>('SELECT schema_name FROM projection_status WHERE name = $1', [projection.name])).rows[0].schema_name;
  const { rows: tables } = await pool.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`,
    [live],
  );
  const dump: Record<string, string[]> = {};
  for (const { table_name } of tables) {
    const { rows } = await pool.query<{ row: string }>(`SELECT t::text AS row FROM "${live}"."${table_name}" t`);
    dump[table_name] = rows.map((r) => r.row).sort();
  }
  return dump;
}

/** Polls until `check` holds (or fails with the last value it saw). */
export async function eventually<T>(read: () => Promise<T>, check: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (check(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not met in ${timeoutMs} ms; last value: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** What the projection's tables hold after applying the log (up to `upTo`) from scratch, for comparison. */
export async function cleanModel(rs: ReadSideDb, projection: Projection, upTo?: string | null): Promise<Record<string, string[]>> {
  const { modelHarness } = await import('./projection-harness');
  const { toProjectedEvent } = await import('../../src/projection-runner/log-pages');
  const { comparePositions } = await import('../../src/event-store/event-store');
  const harness = await modelHarness(rs.pool, projection);
  try {
    if (upTo !== null) {
      const events = (await rs.store.readAll({ maxCount: 1_000_000 })).filter((e) => upTo === undefined || comparePositions(e.position, upTo) <= 0);
      await harness.given(...events.map(toProjectedEvent));
    }
    return await dumpModel(rs.pool, projection, harness.schema);
  } finally {
    await harness.drop();
  }
}

export async function checkpoint(pool: Pool, name: string): Promise<string | null> {
  const { rows } = await pool.query<{ position: string | null }>('SELECT position::text FROM projection_status WHERE name = $1', [name]);
  return rows[0]?.position ?? null;
}
