/**
 * How fast each read model applies a log, in batches as a rebuild hands them over: the projections
 * against the per-event definitions of the same tables (the oracles under test/projections/oracle; the
 * articles read model, with its claims, topics and quotes by source, against four of them).
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npx ts-node --transpile-only bench/projection-apply.ts \
 *     [--events 200000] [--oracle-events 200000] [--batches 500,2000] [--only articles,audit]
 *
 * The log is made in memory by the benchmark's own event factory (100 sources, articles of 100
 * events, written in chunks of 25 per article across groups of 100, as `npm run bench -- rebuild`
 * loads them), then applied to each projection in a fresh schema, one transaction per batch, the
 * batch filtered to the projection's event types as the runner does. Events/s counts every event of
 * the log, as the rebuild benchmark does. Not part of `npm run bench`; nothing else is touched.
 */
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { NewEvent } from '../src/event-store/event-store';
import { sourceDecider, sourceStream } from '../src/newsroom/source/source.decider';
import { SourceSnapshot } from '../src/newsroom/article/article.decider';
import { toDomainEvent } from '../src/newsroom/event-codec';
import { articlesProjection, auditProjection, sourcesProjection } from '../projections';
import { ProjectedEvent, Projection, Sql, boundSql, quoteIdent, tableNames } from '../projections/projection';
import { articlesOracle } from '../test/projections/oracle/articles.oracle';
import { createProjectionSchema } from '../test/support/projection-harness';
import { claimsOracle } from '../test/projections/oracle/claims.oracle';
import { sourcesOracle } from '../test/projections/oracle/sources.oracle';
import { topicsOracle } from '../test/projections/oracle/topics.oracle';
import { ArticleScript, Clock, StreamWriter } from './lib/event-factory';
import { SPEAKERS, pick, rng } from './lib/text';
import { commandLine, count, refuse } from './lib/options';

const PAIRS: { name: string; before: Projection[]; after: Projection }[] = [
  { name: 'articles', before: [articlesOracle, claimsOracle, topicsOracle, sourcesOracle], after: articlesProjection },
  { name: 'sources', before: [sourcesOracle], after: sourcesProjection },
  // Already one INSERT a batch before and after: the floor for writing a row per event on this machine.
  { name: 'audit', before: [auditProjection], after: auditProjection },
];

/** A log of `count` events: sources first, then article histories interleaved as the rebuild benchmark writes them. */
function makeLog(count: number): ProjectedEvent[] {
  const clock = new Clock();
  const random = rng(1);
  const reporter = { id: 'bench-reporter', name: 'Bench Reporter', roles: ['reporter' as const] };
  const log: ProjectedEvent[] = [];
  let position = 1000n;
  const push = (stream: string, revision: number, event: NewEvent) => {
    position += 65_536n;
    const domain = toDomainEvent({ type: event.type, data: event.data, metadata: event.metadata });
    log.push({
      id: event.id,
      streamId: stream,
      revision,
      position: String(position),
      type: domain.type,
      data: domain.data as Record<string, unknown>,
      metadata: event.metadata,
      created: new Date(String(event.metadata.occurredAt)),
    });
  };
  const sources: SourceSnapshot[] = [];
  for (let i = 0; i < 100; i++) {
    const id = randomUUID();
    const writer = new StreamWriter(sourceStream(id), sourceDecider);
    const now = clock.tick();
    const data = { sourceId: id, name: pick(random, SPEAKERS), kind: 'person' as const, title: 'Spokesperson', organization: 'City Council' };
    const events = writer.decide({ type: 'RegisterSource', data, metadata: { actor: reporter, now } }, reporter, now);
    events.forEach((event, k) => push(writer.stream, writer.revision - events.length + 1 + k, event));
    sources.push({ id, name: data.name, title: data.title, organization: data.organization });
  }
  while (log.length < count) {
    const group = Array.from({ length: 100 }, () => new ArticleScript(randomUUID(), random, clock, sources));
    for (let done = 0; done < 100 && log.length < count; done += 25) {
      for (const script of group) {
        const first = script.revision + 1;
        script.take(25).forEach((event, k) => push(script.writer.stream, first + k, event));
      }
    }
  }
  return log.slice(0, count);
}

interface Measured {
  seconds: number;
  /** Time spent awaiting the projection's statements (round trip and PostgreSQL's work). */
  sqlSeconds: number;
  statementsPerBatch: number;
}

async function measure(pool: Pool, projection: Projection, log: ProjectedEvent[], batchSize: number): Promise<Measured> {
  const schema = `bench_apply_${projection.name}_${randomUUID().replace(/-/g, '').slice(0, 8)}`;
  const tables = tableNames(projection);
  await createProjectionSchema(pool, projection, schema);
  const client = await pool.connect();
  let statements = 0;
  let batches = 0;
  let sqlNanos = 0n;
  try {
    const bound = boundSql(client, schema, tables);
    const sql = (async (text: string, params?: unknown[]) => {
      statements++;
      const started = process.hrtime.bigint();
      try {
        return await bound(text, params);
      } finally {
        sqlNanos += process.hrtime.bigint() - started;
      }
    }) as Sql;
    const started = process.hrtime.bigint();
    for (let at = 0; at < log.length; at += batchSize) {
      const batch = log.slice(at, at + batchSize).filter((event) => projection.catchAll || projection.types.has(event.type));
      if (batch.length === 0) continue;
      await client.query('BEGIN');
      await projection.apply(batch, sql);
      await client.query('COMMIT');
      batches++;
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return { seconds, sqlSeconds: Number(sqlNanos) / 1e9, statementsPerBatch: statements / Math.max(1, batches) };
  } finally {
    client.release();
    await pool.query(`DROP SCHEMA ${quoteIdent(schema)} CASCADE`);
  }
}

const USAGE = 'usage: npx ts-node --transpile-only bench/projection-apply.ts [--events 200000] [--oracle-events 200000] [--batches 500,2000] [--only articles,audit]';

async function main(): Promise<void> {
  const names = PAIRS.map((p) => p.name);
  const { values } = commandLine(USAGE, {
    events: { type: 'string', default: '200000' },
    'oracle-events': { type: 'string' },
    batches: { type: 'string', default: '500,2000' },
    only: { type: 'string', default: names.join(',') },
  });
  const events = count('events', values.events, USAGE);
  const oracleEvents = values['oracle-events'] === undefined ? events : count('oracle-events', values['oracle-events'], USAGE);
  const sizes = values.batches.split(',').map((size) => count('batches', size, USAGE));
  const only = values.only.split(',');
  const unknown = only.filter((name) => !names.includes(name));
  if (unknown.length) refuse(`--only names no projection called ${unknown.join(', ')} (there are ${names.join(', ')})`, USAGE);
  const pool = new Pool({ connectionString: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test', max: 2 });
  const log = makeLog(Math.max(events, oracleEvents));
  const counts = new Map<string, number>();
  for (const event of log.slice(0, events)) counts.set(event.type, (counts.get(event.type) ?? 0) + 1);
  console.log(`log: ${events.toLocaleString('en')} events (${[...counts].map(([t, n]) => `${t} ${n}`).join(', ')})`);
  console.log('projection  batch  variant            events    seconds  (in SQL)    events/s  statements/batch');
  for (const pair of PAIRS.filter((p) => only.includes(p.name))) {
    for (const size of sizes) {
      for (const [variant, projections, n] of [
        ['before (per event)', pair.before, oracleEvents],
        ['after (batched)', [pair.after], events],
      ] as const) {
        let [seconds, sqlSeconds, statementsPerBatch] = [0, 0, 0];
        for (const projection of projections) {
          const measured = await measure(pool, projection, log.slice(0, n), size);
          seconds += measured.seconds;
          sqlSeconds += measured.sqlSeconds;
          statementsPerBatch += measured.statementsPerBatch;
        }
        console.log(
          `${pair.name.padEnd(10)}  ${String(size).padStart(5)}  ${variant.padEnd(18)} ${n.toLocaleString('en').padStart(8)} ${seconds.toFixed(2).padStart(9)} ${sqlSeconds.toFixed(2).padStart(9)} ${Math.round(n / seconds)
            .toLocaleString('en')
            .padStart(11)}  ${statementsPerBatch.toFixed(1).padStart(16)}`,
        );
      }
    }
  }
  await pool.end();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
