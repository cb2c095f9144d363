import { Client } from 'pg';
import { TestDatabase } from './database';

/**
 * Runs statements against a test database the way an attacker with the database's keys would: as
 * the server's superuser (not the application's role), with `session_replication_role = replica`
 * so that triggers guarding the event log do not fire. The one way tamper specs change stored events.
 */
export async function tamper<T = unknown>(db: TestDatabase, statements: { sql: string; params?: unknown[] }[]): Promise<T[][]> {
  // `db.url` is the test server's superuser on this spec's database (the application runs as `db.appUrl`).
  const client = new Client({ connectionString: db.url });
  await client.connect();
  try {
    await client.query('BEGIN');
    await client.query('SET LOCAL session_replication_role = replica');
    const results: T[][] = [];
    for (const { sql, params } of statements) results.push((await client.query(sql, params)).rows as T[]);
    await client.query('COMMIT');
    return results;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    await client.end();
  }
}
