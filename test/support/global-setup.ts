import { join } from 'node:path';
import { startEmbeddedPostgres } from '../../src/read-store/embedded-postgres';

/**
 * One PostgreSQL server for the whole run: `DATABASE_URL` when set (CI uses the machine's server),
 * else the embedded one under `.test-data/`. Each spec then creates its own database on it
 * (`test/support/database.ts`), so specs never see each other's rows.
 */
export default async function globalSetup(): Promise<void> {
  if (process.env.DATABASE_URL) {
    process.env.COPYDESK_TEST_SERVER_URL = process.env.DATABASE_URL;
    return;
  }
  const handle = await startEmbeddedPostgres(join(__dirname, '..', '..', '.test-data'), 'postgres');
  process.env.COPYDESK_TEST_SERVER_URL = handle.url;
  (globalThis as { __copydeskEmbeddedPg?: { stop(): Promise<void> } }).__copydeskEmbeddedPg = handle;
}
