/**
 * Figures for a command on a long article against one on a fresh article, in one process, through
 * CommandExecutor on the Postgres event log (no HTTP, no projections). Not a test: run it by hand.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx ts-node --transpile-only bench/long-stream.ts
 *
 * It creates a scratch database on that server and drops it afterwards. Commands carry a command id
 * as with an Idempotency-Key, so the executor also looks for an earlier attempt (one index probe).
 * "warm": one executor throughout (its state cache); "cold": a new executor for every command, as
 * after a restart or on another replica (the snapshot from PostgreSQL plus the events after it).
 */
import { randomUUID } from 'node:crypto';
import { Client, Pool } from 'pg';
import { Clock, loadArticles, loadSources } from './lib/event-factory';
import { PostgresEventStore } from '../src/event-store/postgres.event-store';
import { ArticleCommand, articleDecider, articleStream } from '../src/newsroom/article/article.decider';
import { CommandExecutor, fold } from '../src/newsroom/command-executor';
import { PostgresSnapshotStore } from '../src/newsroom/snapshots';
import { migrate } from '../src/read-store/migrations';

const EVENTS = Number(process.env.LONG_STREAM_EVENTS ?? 10_000);
const COMMANDS = Number(process.env.LONG_STREAM_COMMANDS ?? 50);
const actor = { id: 'measure', name: 'Measure', roles: ['reporter' as const, 'fact_checker' as const] };

function context() {
  const commandId = randomUUID();
  return { actor, commandId, freshCommandId: false, correlationId: commandId, causationId: commandId, now: new Date().toISOString() };
}

function command(i: number, sentences: string[]): ArticleCommand {
  const metadata = { actor, now: new Date().toISOString() };
  if (i % 3 === 0) return { type: 'AddQuote', data: { quoteId: randomUUID(), text: sentences[i % sentences.length], speaker: 'Jane Doe' }, metadata };
  if (i % 3 === 1) return { type: 'RecordClaim', data: { claimId: randomUUID(), text: `Claim ${i}`, quoteId: null }, metadata };
  return { type: 'TagTopic', data: { label: `Topic ${randomUUID().slice(0, 8)}` }, metadata };
}

const p50 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const server = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const name = `copydesk_measure_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const admin = new Client({ connectionString: server });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(server);
  url.pathname = `/${name}`;
  const pool = new Pool({ connectionString: url.toString(), max: 10 });
  try {
    await migrate(pool, { eventLog: true });
    const store = new PostgresEventStore(pool, url.toString());
    const clock = new Clock();
    const sources = await loadSources(store, 20, clock);
    const started = Date.now();
    const [long] = await loadArticles(store, sources, clock, { articles: 1, eventsPerArticle: EVENTS, chunk: 500, keep: true });
    console.log(`loaded ${EVENTS} events in ${Date.now() - started} ms`);

    const stream = articleStream(long.id);
    let t = performance.now();
    const events = await store.readStream(stream);
    const read = performance.now() - t;
    t = performance.now();
    fold(articleDecider, events);
    console.log(`read ${events.length} events ${read.toFixed(0)} ms, full fold ${(performance.now() - t).toFixed(0)} ms`);

    const snapshots = new PostgresSnapshotStore(pool);
    const warm = new CommandExecutor(store, snapshots);
    const fresh = randomUUID();
    const draft: ArticleCommand = { type: 'DraftArticle', data: { articleId: fresh, headline: 'Fresh', body: long.sentences.join(' ') }, metadata: { actor, now: new Date().toISOString() } };
    await warm.handle(articleDecider, articleStream(fresh), draft, context());

    let i = 0;
    /** `n` commands, each through `executor()`: the same one (its cache warm) or a new one each time (cold: snapshot or log). */
    const run = async (id: string, n: number, executor: () => CommandExecutor) => {
      const times: number[] = [];
      for (let k = 0; k < n; k++) {
        const c = command(i++, long.sentences);
        const e = executor();
        const t0 = performance.now();
        await e.handle(articleDecider, articleStream(id), c, context());
        times.push(performance.now() - t0);
        await e.settled();
      }
      return times;
    };
    const line = (label: string, times: number[], base?: number) =>
      console.log(`${label.padEnd(48)} p50 ${p50(times).toFixed(2).padStart(8)} ms  max ${Math.max(...times).toFixed(2).padStart(8)} ms  n=${times.length}${base ? `  ${(p50(times) / base).toFixed(2)}x fresh` : ''}`);

    const first = await run(long.id, 1, () => warm); // no snapshot yet, nothing cached: the whole log, then a snapshot is stored
    await run(fresh, 5, () => warm); // warm-up
    const freshWarm = await run(fresh, COMMANDS, () => warm);
    const freshCold = await run(fresh, COMMANDS, () => new CommandExecutor(store, snapshots));
    const longWarm = await run(long.id, COMMANDS, () => warm);
    const longCold = await run(long.id, COMMANDS, () => new CommandExecutor(store, snapshots));
    const longNoSnapshot = await run(long.id, 3, () => new CommandExecutor(store, null));
    const base = p50(freshWarm);
    line('fresh article, warm (cache)', freshWarm);
    line('fresh article, cold (no cache)', freshCold, base);
    line(`${EVENTS}-event article, first command (whole log)`, first, base);
    line(`${EVENTS}-event article, warm (cache + tail)`, longWarm, base);
    line(`${EVENTS}-event article, cold (snapshot + tail)`, longCold, base);
    line(`${EVENTS}-event article, no snapshot store (fold)`, longNoSnapshot, base);
    await store.close();
  } finally {
    await pool.end();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
