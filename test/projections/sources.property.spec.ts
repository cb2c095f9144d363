import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import { Pool, PoolClient } from 'pg';
import { EventMetadata, ProjectedEvent, Projection, Sql, boundSql, perEventProjection, quoteIdent, tableNames } from '../../projections/projection';
import { sourcesProjection } from '../../projections/sources.projection';
import { batches, split } from '../support/batch-splits';
import { projectionsDatabase } from '../support/projection-harness';
import { ARTICLES, SOURCES, QUOTES, CLAIMS, SENTENCES, eventMetadata as metadata } from '../support/history-arbitraries';
import { sourcesOracle } from './oracle/sources.oracle';

/**
 * The sources read model (each source folded by the source decider's `evolve`, a batch at a time)
 * against the per-event oracle's source directory: for random event sequences of sources and articles,
 * clean and dirty (values a column refuses, uuids spelled as PostgreSQL also reads them), applied in
 * random batch splits, the tables end up identical, the same batches fail (and, one event at a time,
 * the same events), and every batch costs at most two statements.
 *
 * (The articles read model, with the claims, topics and quotes by source derived from its documents,
 * has a property spec of its own: articles.property.spec.ts.)
 *
 * CI runs 100 cases; FUZZ_RUNS=2000 npx jest test/projections/sources.property for a long run.
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 100);

/** The oracle's source directory: its `sources` table (the quotes by source are the articles model's now). */
const sourceDirectoryOracle = perEventProjection({
  name: sourcesOracle.name,
  version: sourcesProjection.version,
  tables: sourcesOracle.tables.filter((ddl) => /^\s*CREATE TABLE \{sources\}/.test(ddl)),
  // The same index, named as a projection's deferred indexes are.
  indexes: sourcesOracle.tables.filter((ddl) => /^\s*CREATE INDEX ON \{sources\}/.test(ddl)).map((ddl) => ddl.replace('CREATE INDEX ON', 'CREATE INDEX IF NOT EXISTS sources_by_name ON')),
  handlers: { SourceRegistered: sourcesOracle.handlers.SourceRegistered, SourceUpdated: sourcesOracle.handlers.SourceUpdated },
});

const PAIRS: { set: Projection; oracle: Projection }[] = [{ set: sourcesProjection, oracle: sourceDirectoryOracle }];

// ───────────────────────────────────────────────────────────────── the world ──

/** A uuid as PostgreSQL also reads it: upper case, in braces, without hyphens. */
const spelledUuid = (ids: readonly string[]) =>
  fc.oneof(
    { weight: 12, arbitrary: fc.constantFrom(...ids) },
    { weight: 1, arbitrary: fc.constantFrom(...ids).map((id) => id.toUpperCase()) },
    { weight: 1, arbitrary: fc.constantFrom(...ids).map((id) => `{${id.replace(/-/g, '')}}`) },
  );

type Step =
  | { kind: 'event'; stream: string; type: string; data: Record<string, unknown>; metadata: EventMetadata; gap: number }
  | { kind: 'again'; index: number };

/**
 * Random histories. A dirty one now and then carries a value a column refuses, so that most of its
 * batches fail (and are compared event by event); a clean one carries none, so that its batches,
 * up to the whole history at once, succeed and the set-based path itself is compared.
 */
function histories(dirty: boolean): fc.Arbitrary<{ dirty: boolean; steps: Step[] }> {
  /** Now and then (in a dirty history) a value the column refuses, or takes in a way worth checking. */
  function odd<T>(normal: fc.Arbitrary<T>, ...odd: unknown[]): fc.Arbitrary<unknown> {
    if (!dirty) return normal as fc.Arbitrary<unknown>;
    return fc.oneof({ weight: 30, arbitrary: normal as fc.Arbitrary<unknown> }, { weight: 1, arbitrary: fc.constantFrom(...odd) });
  }

  const text = (...values: string[]) => odd(fc.constantFrom(...values), null, 'nul\u0000byte', 'lone \ud800 surrogate', 42);
  const nullable = <T>(arbitrary: fc.Arbitrary<T>) => fc.option(arbitrary, { nil: null });

  const quoteText = fc.oneof(
    fc.constantFrom(...SENTENCES),
    fc.constantFrom('bridge reopens', 'Officials expect delays. Residents', 'not in any body', '   Traffic   will be\u00a0"light"  '),
  );
  const paragraph = fc.array(fc.constantFrom(...SENTENCES), { minLength: 1, maxLength: 3 }).map((s) => s.join('  '));
  const body = odd(
    fc.array(paragraph, { minLength: 0, maxLength: 3 }).map((ps) => ps.join('\n\n')),
    null,
    'nul\u0000byte',
  );

  const articleStream = fc.oneof(
    { weight: 30, arbitrary: fc.constantFrom(...ARTICLES).map((id) => `article-${id}`) },
    { weight: 1, arbitrary: fc.constantFrom(`article-${ARTICLES[0].toUpperCase()}`, ...(dirty ? ['article-not-a-uuid'] : [])) },
  );
  const sourceStream = fc.constantFrom(...SOURCES).map((id) => `source-${id}`);


  function eventStep(type: string, data: fc.Arbitrary<Record<string, unknown>>, stream = articleStream) {
    return fc.record({ kind: fc.constant('event' as const), stream, type: fc.constant(type), data, metadata, gap: fc.nat(3) });
  }

  const snapshot = fc.record(
    {
      id: spelledUuid(SOURCES),
      name: fc.constantFrom('Jane Doe', 'Sam Roe'),
      title: nullable(fc.constantFrom('Engineer', 'Mayor')),
      organization: nullable(fc.constantFrom('Bridge Works', 'City Council')),
    },
    { requiredKeys: ['id', 'name'] },
  );

  const drafted = eventStep(
    'ArticleDrafted',
    fc.record(
      { headline: text('Bridge reopens', 'Council votes'), body, byline: nullable(fc.constant('A. R.')), desk: nullable(fc.constant('City')) },
      { requiredKeys: ['headline', 'body'] },
    ),
    // Article 3 is never drafted.
    fc.constantFrom(...ARTICLES.slice(0, 3)).map((id) => `article-${id}`),
  );

  const registered = eventStep(
    'SourceRegistered',
    fc.record(
      {
        name: text('Jane Doe', 'Sam Roe'),
        kind: fc.constantFrom('person', 'organization'),
        title: nullable(fc.constantFrom('Engineer', 'Mayor')),
        organization: nullable(fc.constantFrom('Bridge Works', 'City Council')),
      },
      { requiredKeys: ['name', 'kind'] },
    ),
    sourceStream,
  );

  const step: fc.Arbitrary<Step> = fc.oneof(
    { weight: 3, arbitrary: drafted },
    { weight: 2, arbitrary: registered },
    { weight: 2, arbitrary: eventStep('HeadlineChanged', fc.record({ headline: text('Bridge reopens at last', 'Vote delayed') })) },
    { weight: 3, arbitrary: eventStep('BodyRevised', fc.record({ body, returnedToDraft: fc.boolean() }, { requiredKeys: ['body'] })) },
    {
      weight: 5,
      arbitrary: eventStep(
        'QuoteAdded',
        fc.record({
          quoteId: odd(spelledUuid(QUOTES), 'not-a-uuid', null),
          text: odd(quoteText, null, 'nul\u0000byte', 'lone \udc00 surrogate'),
          speaker: text('Jo', 'Mo'),
          paragraph: odd(fc.integer({ min: 0, max: 3 }), 1.5, '2', null, 'x'),
        }),
      ),
    },
    {
      weight: 4,
      arbitrary: eventStep(
        'SourceAttributed',
        fc.record(
          {
            quoteId: spelledUuid(QUOTES),
            source: odd(snapshot, undefined),
            attribution: nullable(fc.constantFrom('told reporters', 'said in a statement')),
            method: fc.constantFrom('interview', 'statement'),
          },
          { requiredKeys: ['quoteId', 'source', 'method'] },
        ),
      ),
    },
    { weight: 2, arbitrary: eventStep('QuoteWithdrawn', fc.record({ quoteId: odd(spelledUuid(QUOTES), 'not-a-uuid'), reason: fc.constant('could not confirm') })) },
    {
      weight: 4,
      arbitrary: eventStep(
        'TopicTagged',
        fc.record({ slug: odd(fc.constantFrom('city', 'transport', 'weather'), null), label: text('City', 'Transport', 'Weather', 'City Hall') }),
      ),
    },
    { weight: 3, arbitrary: eventStep('TopicUntagged', fc.record({ slug: odd(fc.constantFrom('city', 'transport', 'weather', 'never-tagged'), null) })) },
    {
      weight: 3,
      arbitrary: eventStep(
        'ClaimRecorded',
        fc.record(
          { claimId: odd(spelledUuid(CLAIMS), 'not-a-uuid'), text: text('The bridge cost 4m.', 'It is the oldest bridge.'), quoteId: nullable(spelledUuid(QUOTES)) },
          { requiredKeys: ['claimId', 'text'] },
        ),
      ),
    },
    {
      weight: 3,
      arbitrary: eventStep(
        'ClaimVerdictRecorded',
        fc.record(
          {
            claimId: spelledUuid(CLAIMS),
            verdict: fc.constantFrom('verified', 'false', 'misleading'),
            evidence: fc.array(fc.record({ url: fc.constant('https://example.org/e'), note: fc.constantFrom('minutes', 'budget "line"') }, { requiredKeys: ['note'] }), {
              maxLength: 2,
            }),
            note: nullable(fc.constantFrom('checked twice')),
          },
          { requiredKeys: ['claimId', 'verdict'] },
        ),
      ),
    },
    { weight: 1, arbitrary: eventStep('ArticleReturnedToDraft', fc.record({ from: fc.constantFrom('in_review', 'approved') })) },
    { weight: 1, arbitrary: eventStep('ArticleSubmitted', fc.constant({ submittedBy: 'rita' })) },
    { weight: 1, arbitrary: eventStep('ArticleApproved', fc.constant({ approvedBy: 'ed' })) },
    { weight: 1, arbitrary: eventStep('ArticlePublished', fc.constant({})) },
    { weight: 1, arbitrary: eventStep('ArticleRetracted', fc.constant({ reason: 'wrong' })) },
    { weight: 1, arbitrary: eventStep('CorrectionIssued', fc.record({ text: text('An earlier version misspelled a name.') })) },
    {
      weight: 3,
      arbitrary: eventStep(
        'SourceUpdated',
        fc.record(
          { name: odd(fc.constantFrom('Jane Q. Doe', 'Samuel Roe'), 7), title: nullable(fc.constantFrom('Chief Engineer')), organization: nullable(fc.constantFrom('Harbour Board')) },
          { requiredKeys: [] },
        ),
        sourceStream,
      ),
    },
    // A re-delivery of an earlier event: same id, position and revision.
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('again' as const), index: fc.nat() }) },
  );

  /** Mostly some articles drafted and sources registered first, then anything, in any order. */
  return fc
    .tuple(fc.array(fc.oneof(drafted, registered), { maxLength: 5 }), fc.array(step, { minLength: 1, maxLength: 60, size: 'max' }))
    .map(([genesis, rest]) => ({ dirty, steps: [...genesis, ...rest] }));
}

const history = fc.oneof({ weight: 2, arbitrary: histories(false) }, { weight: 1, arbitrary: histories(true) });

/** The steps as the log would hand them over: positions increasing (past 2^53), revisions per stream. */
function eventsOf(steps: Step[]): ProjectedEvent[] {
  let position = 9_007_199_254_740_000n;
  const revisions = new Map<string, number>();
  const events: ProjectedEvent[] = [];
  for (const s of steps) {
    if (s.kind === 'again') {
      if (events.length > 0) events.push(events[s.index % events.length]);
      continue;
    }
    const revision = (revisions.get(s.stream) ?? -1) + 1;
    revisions.set(s.stream, revision);
    position += 65_536n + BigInt(s.gap);
    events.push({
      id: randomUUID(),
      streamId: s.stream,
      revision,
      position: String(position),
      type: s.type,
      data: s.data,
      metadata: { schemaVersion: 1, ...s.metadata },
      created: new Date(Date.UTC(2024, 0, 1) + Number(position % 1_000_000n) * 1000),
    });
  }
  return events;
}


// ─────────────────────────────────────────────────────────────────── applying ──

interface Outcome {
  /** The batch as a whole threw. */
  failed: boolean;
  /** Then, one at a time behind savepoints (as the runner does): the indexes of the events that threw. */
  failedEvents: number[];
  /** Statements the batch's `apply` ran (with the one-at-a-time retries when it failed). */
  statements: number;
}

async function applyBatch(client: PoolClient, projection: Projection, schema: string, events: ProjectedEvent[]): Promise<Outcome> {
  const bound = boundSql(client, schema, tableNames(projection));
  let statements = 0;
  const sql = ((text: string, params?: unknown[]) => {
    statements++;
    return bound(text, params);
  }) as Sql;
  const applied = events.filter((e) => projection.types.has(e.type));
  await client.query('SAVEPOINT batch');
  try {
    await projection.apply(applied, sql);
    await client.query('RELEASE SAVEPOINT batch');
    return { failed: false, failedEvents: [], statements };
  } catch {
    await client.query('ROLLBACK TO SAVEPOINT batch');
  }
  const failedEvents: number[] = [];
  for (const [index, event] of applied.entries()) {
    await client.query('SAVEPOINT event');
    try {
      await projection.apply([event], sql);
      await client.query('RELEASE SAVEPOINT event');
    } catch {
      await client.query('ROLLBACK TO SAVEPOINT event');
      failedEvents.push(index);
    }
  }
  return { failed: true, failedEvents, statements };
}

async function contents(client: PoolClient, projection: Projection, schema: string): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const table of tableNames(projection)) {
    // row_to_json keeps json columns' text and numerics' digits exactly as stored.
    const { rows } = await client.query<{ r: string }>(`SELECT row_to_json(t)::text AS r FROM ${quoteIdent(schema)}.${quoteIdent(table)} t ORDER BY 1`);
    out[table] = rows.map((row) => row.r);
  }
  return out;
}

describe('the sources read model equals its per-event oracle', () => {
  let database: Awaited<ReturnType<typeof projectionsDatabase>>;
  let pool: Pool;
  let schemas: Map<Projection, string>;

  beforeAll(async () => {
    database = await projectionsDatabase(PAIRS.flatMap(({ set, oracle }) => [[set, `prop_set_${set.name}`] as const, [oracle, `prop_oracle_${oracle.name}`] as const]));
    ({ pool, schemas } = database);
  });

  afterAll(async () => {
    await database?.drop();
  });

  it('have the same name, version, tables and event types as the oracles', () => {
    for (const { set, oracle } of PAIRS) {
      expect({ name: set.name, version: set.version, tables: set.tables, indexes: set.indexes, catchAll: set.catchAll, types: [...set.types].sort() }).toEqual({
        name: oracle.name,
        version: oracle.version,
        tables: oracle.tables,
        indexes: oracle.indexes,
        catchAll: oracle.catchAll,
        types: [...oracle.types].sort(),
      });
    }
  });

  it('are fed histories, clean and dirty, in batches of every size (the generator, by fc.statistics)', () => {
    const lines: string[] = [];
    fc.statistics(
      fc.tuple(history, split),
      ([{ dirty, steps }, sizes]) => {
        const largest = Math.min(steps.length, Math.max(...sizes));
        const bucket = largest >= 25 ? '25+' : largest >= 10 ? '10-24' : largest >= 2 ? '2-9' : '1';
        return `${dirty ? 'dirty' : 'clean'} history, largest batch ${bucket}`;
      },
      { numRuns: 2000, logger: (line) => lines.push(line) },
    );
    process.stdout.write(`sources property generator:\n${lines.join('\n')}\n`);
    expect(lines.some((line) => line.startsWith('clean history, largest batch 25+'))).toBe(true);
  });

  it(`leave the same rows as one event at a time, whatever the batches (${RUNS} runs)`, async () => {
    const client = await pool.connect();
    /** Per run, the most events in a batch that every projection applied without failing. */
    const largest: number[] = [];
    try {
      await fc.assert(
        fc.asyncProperty(history, split, async ({ steps }, sizes) => {
          const events = eventsOf(steps);
          const cut = batches(events, sizes);
          const failed = new Set<ProjectedEvent[]>();
          await client.query('BEGIN');
          try {
            for (const { set, oracle } of PAIRS) {
              for (const batch of cut) {
                const expected = await applyBatch(client, oracle, schemas.get(oracle)!, batch);
                const actual = await applyBatch(client, set, schemas.get(set)!, batch);
                if (actual.failed) failed.add(batch);
                expect({ projection: set.name, failed: actual.failed, failedEvents: actual.failedEvents }).toEqual({
                  projection: set.name,
                  failed: expected.failed,
                  failedEvents: expected.failedEvents,
                });
                if (!actual.failed) expect(actual.statements).toBeLessThanOrEqual(2);
              }
              expect({ projection: set.name, tables: await contents(client, set, schemas.get(set)!) }).toEqual({
                projection: set.name,
                tables: await contents(client, oracle, schemas.get(oracle)!),
              });
            }
            largest.push(Math.max(0, ...cut.filter((b) => !failed.has(b)).map((b) => b.length)));
          } finally {
            await client.query('ROLLBACK');
          }
        }),
        { numRuns: RUNS },
      );
    } finally {
      client.release();
    }
    // What the runs exercised: a property that only ever sees small or failing batches proves little.
    const share = (min: number) => Math.round((largest.filter((n) => n >= min).length / largest.length) * 100);
    process.stdout.write(`sources property: runs with a batch every projection applied whole of ≥ 10 events ${share(10)}%, ≥ 25 ${share(25)}%, ≥ 50 ${share(50)}%\n`);
    expect(share(10)).toBeGreaterThanOrEqual(RUNS >= 100 ? 40 : 0);
    expect(share(25)).toBeGreaterThanOrEqual(RUNS >= 100 ? 15 : 0);
  }, 600_000);
});
