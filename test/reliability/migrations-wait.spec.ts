import { Client } from 'pg';
import { startRuntime } from '../../src/app/runtime';
import { readConfig } from '../../src/config/configuration';
import { TEST_SECRET } from '../support/app';
import { createTestDatabase, TestDatabase } from '../support/database';

/** Longer than any one statement of the application's pool may take (statement_timeout 5 s, query_timeout 6 s). */
const HELD_MS = 8000;

/**
 * Replicas start together on one database ("several replicas may start at once"): one runs the
 * migrations under the migrations lock, the others wait for it. A migration may take minutes (an
 * index over the whole log), so neither the wait nor a migration's statements are held to the
 * bounds on an ordinary statement.
 */
describe.each([
  ['DATABASE_URL alone (migrations as the application role)', false],
  ['DATABASE_URL and DATABASE_OWNER_URL', true],
])('starts on one database while another replica is in its migrations: %s', (_label, withOwner) => {
  let db: TestDatabase;
  /** Another replica's session, on the superuser's login. */
  let replica: Client;
  const notices: string[] = [];
  const start = () => {
    const env = withOwner ? { DATABASE_URL: db.appUrl, DATABASE_OWNER_URL: db.url } : { DATABASE_URL: db.url };
    return startRuntime(readConfig({ ...env, AUTH_JWT_SECRET: TEST_SECRET, LOG_LEVEL: 'info' }), { notice: (line) => notices.push(line) });
  };
  /** Runs `sql` on the replica's session after HELD_MS; resolves with the time it did. */
  const after = (sql: string) => new Promise<number>((resolve) => setTimeout(() => void replica.query(sql).then(() => resolve(Date.now())), HELD_MS));
  const appliedMigrations = async () => (await replica.query<{ n: number }>('SELECT count(*)::int AS n FROM schema_migrations')).rows[0].n;

  beforeEach(async () => {
    notices.length = 0;
    db = await createTestDatabase();
    replica = new Client({ connectionString: db.url, application_name: 'copydesk process 4343' });
    await replica.connect();
  });
  afterEach(async () => {
    await replica?.end();
    await db?.drop();
  });

  it('waits for the migrations lock for longer than a statement may run, says once whose migrations it waits for, then migrates and comes up', async () => {
    // As another replica holds it for the whole of its migrations.
    await replica.query(`SELECT pg_advisory_lock(hashtext('copydesk:migrations'))`);
    const released = after(`SELECT pg_advisory_unlock(hashtext('copydesk:migrations'))`);
    // Before: without DATABASE_OWNER_URL, "canceling statement due to statement timeout" after 5 s.
    const runtime = await start();
    try {
      expect(Date.now()).toBeGreaterThanOrEqual(await released);
      expect(notices.filter((line) => /waiting/.test(line))).toEqual([
        'copydesk: waiting for the migrations copydesk process 4343 is running on this database (another replica starting); it holds their lock',
      ]);
      expect(await appliedMigrations()).toBeGreaterThan(0);
    } finally {
      await runtime.close();
    }
  }, 60_000);

  it('a migration statement that takes longer than an ordinary statement may is waited for, not cancelled', async () => {
    // The first migration creates event_streams; another session creating a table of that name and holding
    // its transaction open makes that statement wait until it ends (a slow migration, as far as the start can tell).
    await replica.query('BEGIN');
    await replica.query('CREATE TABLE event_streams (stream_id text PRIMARY KEY, revision bigint NOT NULL)');
    const ended = after('ROLLBACK');
    const runtime = await start();
    try {
      expect(Date.now()).toBeGreaterThanOrEqual(await ended);
      expect(notices.filter((line) => /waiting/.test(line))).toEqual([]);
      expect(await appliedMigrations()).toBeGreaterThan(0);
      // The start's own statements are bounded again: its pool's connections still cancel a statement after 5 s.
      await expect(runtime.pool.query('SELECT pg_sleep(6)')).rejects.toThrow(/statement timeout|Query read timeout/);
    } finally {
      await runtime.close();
    }
  }, 60_000);
});
