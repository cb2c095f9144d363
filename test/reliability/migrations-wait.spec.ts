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
 * index over the whole log); what is held here is the lock itself, for longer than a statement of
 * the application's pool may run, as another replica in the middle of its migrations holds it.
 */
describe.each([
  ['DATABASE_URL alone (migrations as the application role)', false],
  ['DATABASE_URL and DATABASE_OWNER_URL', true],
])('a start while another replica runs migrations for longer than a statement may take: %s', (_label, withOwner) => {
  let db: TestDatabase;
  let replica: Client;

  beforeAll(async () => {
    db = await createTestDatabase();
    replica = new Client({ connectionString: db.url, application_name: 'copydesk process 4343' });
    await replica.connect();
  });
  afterAll(async () => {
    await replica?.end();
    await db?.drop();
  });

  it('waits for the lock, says once whose migrations it waits for, then migrates and comes up', async () => {
    await replica.query(`SELECT pg_advisory_lock(hashtext('copydesk:migrations'))`);
    const released = new Promise<number>((resolve) =>
      setTimeout(() => void replica.query(`SELECT pg_advisory_unlock(hashtext('copydesk:migrations'))`).then(() => resolve(Date.now())), HELD_MS),
    );
    const notices: string[] = [];
    const env = withOwner ? { DATABASE_URL: db.appUrl, DATABASE_OWNER_URL: db.url } : { DATABASE_URL: db.url };
    const runtime = await startRuntime(readConfig({ ...env, AUTH_JWT_SECRET: TEST_SECRET, LOG_LEVEL: 'info' }), { notice: (line) => notices.push(line) });
    try {
      const cameUp = Date.now();
      expect(cameUp).toBeGreaterThanOrEqual(await released);
      expect(notices.filter((line) => /waiting/.test(line))).toEqual([
        'copydesk: waiting for the migrations copydesk process 4343 is running on this database (another replica starting); it holds their lock',
      ]);
      const { rows } = await replica.query<{ n: number }>('SELECT count(*)::int AS n FROM schema_migrations');
      expect(rows[0].n).toBeGreaterThan(0);
    } finally {
      await runtime.close();
    }
  }, 60_000);
});
