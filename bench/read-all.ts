/**
 * How fast the Postgres event log pages through `$all` (what every rebuild and catch-up reads),
 * with the page statement as it is (`PostgresEventStore.readAll`) against the one it replaced, in
 * turns on the same embedded PostgreSQL as `copydesk serve` starts.
 *
 *   npx ts-node --transpile-only bench/read-all.ts [--events 1000000] [--page 2000]
 *
 * The log is written by SQL (300 bytes of data an event): what is measured
 * is the read, not the append. Not part of `npm run bench`.
 */
import { join } from 'node:path';
import { Client } from 'pg';
import { openCluster } from './lib/cluster';
import { OUT_DIR } from './lib/paths';
import { failed, stopOnSignals } from './lib/cleanup';
import { commandLine, count } from './lib/options';

/** The statement before: one query over the remainder of the log, filtered by the visibility limit. */
const BEFORE = `SELECT position, stream_id, revision, id, type, data, metadata, created FROM events
  WHERE position > $1 AND position < (pg_snapshot_xmin(pg_current_snapshot())::text::bigint << 16) ORDER BY position LIMIT $2`;

const USAGE = 'usage: npx ts-node --transpile-only bench/read-all.ts [--events 1000000] [--page 2000]';

async function main(): Promise<void> {
  const { values } = commandLine(USAGE, { events: { type: 'string', default: '1000000' }, page: { type: 'string', default: '2000' } });
  const total = count('events', values.events, USAGE);
  const page = count('page', values.page, USAGE);
  const cluster = await openCluster(join(OUT_DIR, 'data-read-all'));
  try {
    const { pool, eventStore } = cluster.runtime;
    const started = Date.now();
    // The superuser's own connection: the application's pool cancels statements after a few seconds.
    const owner = new Client({ connectionString: cluster.ownerUrl });
    await owner.connect();
    // Positions must lie below the visibility limit (the oldest transaction in flight << 16): spread over it.
    const { rows } = await pool.query<{ limit: string }>(`SELECT (pg_current_xact_id()::text::bigint << 16)::text AS limit`);
    const step = BigInt(rows[0].limit) / BigInt(total + 1);
    if (step < 1n) throw new Error('too many events for this cluster\'s transaction ids');
    await owner.query(
      `INSERT INTO events (position, stream_id, revision, id, type, data, metadata)
       SELECT g * $2::bigint, 'article-' || (g / 25 % 10000), g, gen_random_uuid(), 'QuoteAdded',
              jsonb_build_object('text', repeat('x', 300), 'n', g), '{"actor":"bench"}'::jsonb
       FROM generate_series(1, $1::int) g`,
      [total, step.toString()],
    );
    if (!process.argv.includes('--no-analyze')) await owner.query('VACUUM ANALYZE events');
    await owner.end();
    console.log(`${total.toLocaleString()} events written in ${((Date.now() - started) / 1000).toFixed(1)} s; pages of ${page}`);

    const readBefore = async (from: string) => {
      const r = await pool.query<{ position: string }>({ name: 'bench_read_all_before', text: BEFORE, values: [from, page] });
      return r.rows.map((row) => String(row.position));
    };
    const readNow = async (from: string) => (await eventStore.readAll({ fromPosition: from, maxCount: page })).map((e) => e.position);
    for (const round of [1, 2]) {
      for (const [name, read] of [
        ['before', readBefore],
        ['now', readNow],
      ] as const) {
        const t0 = process.hrtime.bigint();
        let from = '-1';
        let count = 0;
        for (;;) {
          const positions = await read(from);
          if (positions.length === 0) break;
          count += positions.length;
          from = positions[positions.length - 1];
        }
        const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
        console.log(`round ${round} ${name.padEnd(6)} ${count.toLocaleString()} events in ${seconds.toFixed(2)} s: ${Math.round(count / seconds).toLocaleString()} events/s`);
      }
    }
  } finally {
    await cluster.close();
  }
}

stopOnSignals();
main().catch(failed);
