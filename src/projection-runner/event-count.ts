import { Pool } from 'pg';
import { EventStore, comparePositions } from '../event-store/event-store';

/**
 * How many events lie in (after, upTo]: for lag and rebuild progress. The Postgres log answers with
 * one indexed count; another store is paged through, up to `cap` events.
 */
export async function countEvents(store: EventStore, pool: Pool, after: string | null, upTo: string | null, cap = 100_000): Promise<number> {
  if (upTo === null || (after !== null && comparePositions(after, upTo) >= 0)) return 0;
  if (store.kind === 'postgres') {
    try {
      const { rows } = await pool.query<{ n: string }>('SELECT count(*)::text AS n FROM events WHERE position > $1 AND position <= $2', [after ?? '-1', upTo]);
      return Number(rows[0].n);
    } catch {
      // not the same database after all: page through the store below
    }
  }
  let counted = 0;
  let from = after ?? undefined;
  const page = 1000;
  for (;;) {
    const events = await store.readAll({ fromPosition: from, maxCount: page });
    for (const event of events) {
      if (comparePositions(event.position, upTo) > 0) return counted;
      counted++;
    }
    if (events.length < page || counted >= cap) return counted;
    from = events[events.length - 1].position;
  }
}
