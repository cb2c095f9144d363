import { join } from 'node:path';
import { Client } from 'pg';
import { startEmbeddedPostgres } from '../../src/read-store/embedded-postgres';

/** The role test applications connect as on a `DATABASE_URL` server: not a superuser, as in production. */
const TEST_APP_ROLE = 'copydesk_test_app';

/**
 * Makes the shared test application role on a `DATABASE_URL` server (once; several runs may race)
 * and returns the server's URL with its login.
 */
async function testAppRole(serverUrl: string): Promise<string> {
  const client = new Client({ connectionString: serverUrl });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [TEST_APP_ROLE]);
    if (found.rowCount === 0)
      await client.query(`CREATE ROLE ${TEST_APP_ROLE} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '${TEST_APP_ROLE}'`).catch((error: { code?: string }) => {
        if (error.code !== '42710' && error.code !== '23505') throw error;
      });
  } finally {
    await client.end();
  }
  const url = new URL(serverUrl);
  url.username = TEST_APP_ROLE;
  url.password = TEST_APP_ROLE;
  return url.toString();
}

/**
 * One PostgreSQL server for the whole run: `DATABASE_URL` when set (CI uses the machine's server),
 * else the embedded one under `.test-data/`, started exactly as `copydesk serve` starts its own.
 * Each spec then creates its own database on it (`test/support/database.ts`), so specs never see
 * each other's rows. `COPYDESK_TEST_SERVER_URL` logs in as a superuser (it creates databases and
 * owns them); `COPYDESK_TEST_APP_URL` as the role test applications run as.
 */
export default async function globalSetup(): Promise<void> {
  if (process.env.DATABASE_URL) {
    process.env.COPYDESK_TEST_SERVER_URL = process.env.DATABASE_URL;
    process.env.COPYDESK_TEST_APP_URL = await testAppRole(process.env.DATABASE_URL);
    return;
  }
  const handle = await startEmbeddedPostgres(join(__dirname, '..', '..', '.test-data'), 'postgres');
  process.env.COPYDESK_TEST_SERVER_URL = handle.ownerUrl;
  process.env.COPYDESK_TEST_APP_URL = handle.url;
  (globalThis as { __copydeskEmbeddedPg?: { stop(): Promise<void> } }).__copydeskEmbeddedPg = handle;
}
