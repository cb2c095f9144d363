import { randomUUID } from 'node:crypto';
import { Client } from 'pg';

export interface TestDatabase {
  /** A superuser's login (it created the database and owns it): migrations, and specs that need more than the application may do. */
  url: string;
  /** The login test applications use: a role that is not a superuser, granted what migrations grant. */
  appUrl: string;
  drop(): Promise<void>;
}

function serverUrl(): string {
  const url = process.env.COPYDESK_TEST_SERVER_URL ?? process.env.DATABASE_URL;
  if (!url) throw new Error('no test PostgreSQL: run through jest (global setup) or set DATABASE_URL');
  return url;
}

function onDatabase(server: string, name: string): string {
  const url = new URL(server);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Creates an empty database on the test server; `drop()` removes it (terminating its connections). */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `copydesk_test_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  const admin = new Client({ connectionString: serverUrl() });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const app = process.env.COPYDESK_TEST_APP_URL;
  if (!app) throw new Error('no test application role: run through jest (global setup)');
  return {
    url: onDatabase(serverUrl(), name),
    appUrl: onDatabase(app, name),
    drop: async () => {
      const client = new Client({ connectionString: serverUrl() });
      await client.connect();
      try {
        // A pool's end() resolves before its sockets have closed: give them a moment, so that FORCE
        // terminates only connections a spec really left open (a terminated idle client of a pool
        // without an error listener is an uncaught error in whatever spec runs next).
        for (const deadline = Date.now() + 2000; Date.now() < deadline; ) {
          const { rows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [name]);
          if (rows[0].n === 0) break;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

