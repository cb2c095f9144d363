import { Pool } from 'pg';
import { EventStore, comparePositions } from '../event-store/event-store';

/**
 * How many events lie in (after, upTo]: for lag and rebuild progress. The Postgres log answers with
 * one indexed count; another store is paged through, up to `cap` events.
 */
export function countEvents(store: EventStore, pool: Pool, after: string | null, upTo: string | null, cap = 100_000): Promise<number> {
  if (upTo === null || (after !== null && comparePositions(after, upTo) >= 0)) return Promise.resolve(0);
  // Builds started together (every projection at once) count the same whole log: once.
  const key = `${after}:${upTo}:${cap}`;
  const now = Date.now();
  let recent = recentByStore.get(store);
  if (!recent) recentByStore.set(store, (recent = new Map()));
  for (const [k, entry] of recent) if (now - entry.at > 5000) recent.delete(k);
  let entry = recent.get(key);
  if (!entry) {
    entry = { at: now, count: count(store, pool, after, upTo, cap) };
    recent.set(key, entry);
    entry.count.catch(() => recent!.delete(key));
  }
  return entry.count;
}

/** Counts asked for in the last few seconds, per store; positions name immutable ranges of its log, so a count holds. */
const recentByStore = new WeakMap<EventStore, Map<string, { at: number; count: Promise<number> }>>();

async function count(store: EventStore, pool: Pool, after: string | null, upTo: string, cap: number): Promise<number> {
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
