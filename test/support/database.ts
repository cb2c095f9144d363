import { randomUUID } from 'node:crypto';
import { Client } from 'pg';

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

function serverUrl(): string {
  const url = process.env.COPYDESK_TEST_SERVER_URL ?? process.env.DATABASE_URL;
  if (!url) throw new Error('no test PostgreSQL: run through jest (global setup) or set DATABASE_URL');
  return url;
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
  const url = new URL(serverUrl());
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const client = new Client({ connectionString: serverUrl() });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}
