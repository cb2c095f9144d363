import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { PostgresEventStore } from '../../src/event-store/postgres.event-store';
import { createTestDatabase, TestDatabase } from '../support/database';

/** What the contract suite cannot provoke on demand: a slower transaction that commits late. */
describe('Postgres event log: out-of-order commits', () => {
  let db: TestDatabase;
  let pool: Pool;
  let store: PostgresEventStore;

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = new Pool({ connectionString: db.url });
    await PostgresEventStore.migrate(pool);
    store = new PostgresEventStore(pool, db.url);
  });
  afterAll(async () => {
    await store.close();
    await pool.end();
    await db.drop();
  });

  it('hides a committed event until an older in-flight transaction ends, then orders the older one first', async () => {
    const warmup = await store.appendToStream('warmup', [{ id: randomUUID(), type: 'T', data: {}, metadata: {} }], { expectedRevision: 'any' });
    const head = warmup.position;
    // Until no older transaction is in flight anywhere on the server, not even the warm-up is visible.
    for (const deadline = Date.now() + 5000; (await store.headPosition()) !== head && Date.now() < deadline; ) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const slow = await pool.connect();
    try {
      await slow.query('BEGIN');
      await slow.query('SELECT pg_current_xact_id()');
      const fast = await store.appendToStream('fast', [{ id: randomUUID(), type: 'T', data: {}, metadata: {} }], { expectedRevision: 'no_stream' });

      expect(await store.readAll({ fromPosition: head, maxCount: 10 })).toEqual([]);
      expect(await store.headPosition()).toBe(head);

      await slow.query(
        `INSERT INTO event_streams VALUES ('slow', 0);
         INSERT INTO events (position, stream_id, revision, id, type, data, metadata)
         VALUES (pg_current_xact_id()::text::bigint << 16, 'slow', 0, '${randomUUID()}', 'T', '{}', '{}')`,
      );
      await slow.query('COMMIT');

      // Visible once no older transaction is in flight anywhere on the server (xids are cluster-wide:
      // other specs' transactions on other databases hold the horizon back for a moment too).
      let visible = await store.readAll({ fromPosition: head, maxCount: 10 });
      for (const deadline = Date.now() + 5000; visible.length < 2 && Date.now() < deadline; ) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        visible = await store.readAll({ fromPosition: head, maxCount: 10 });
      }
      expect(visible.map((e) => e.streamId)).toEqual(['slow', 'fast']);
      expect(visible[1].position).toBe(fast.position);
    } finally {
      slow.release();
    }
  });
});
