import { Pool } from 'pg';
import { PostgresEventStore } from '../../src/event-store/postgres.event-store';
import { createTestDatabase } from '../support/database';
import { eventStoreContract } from './event-store.contract';

eventStoreContract('Postgres event log', async () => {
  const db = await createTestDatabase();
  const pool = new Pool({ connectionString: db.url, max: 20 });
  await PostgresEventStore.migrate(pool);
  const store = new PostgresEventStore(pool, db.url);
  return {
    store,
    teardown: async () => {
      await store.close();
      await pool.end();
      await db.drop();
    },
  };
});
