import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import { Pool, PoolClient } from 'pg';
import { articlesProjection } from '../../projections/articles.projection';
import { EventMetadata, ProjectedEvent, Projection, Sql, boundSql, quoteIdent, tableNames } from '../../projections/projection';
import { ClaimState } from '../../src/newsroom/article/article.decider';
import { ArticleDocument, QuoteView, articleView, claimView, foldArticleDocument } from '../../src/newsroom/article/article.view';
import { Who } from '../../src/newsroom/event-provenance';
import { batches, split } from '../support/batch-splits';
import { projectionsDatabase } from '../support/projection-harness';
import { applyContext } from '../../src/projection-runner/copy-rows';
import { ARTICLES, QUOTES, CLAIMS, SENTENCES, eventMetadata as metadata } from '../support/history-arbitraries';
import { articlesOracle, oracleArticleList, oracleArticleView } from './oracle/articles.oracle';
import { claimsOracle } from './oracle/claims.oracle';
import { sourcesOracle } from './oracle/sources.oracle';

/**
 * The articles read model (one document per article, evolved by the decider's `evolve` a batch at a
 * time, and the tables derived from the documents) against the oracles: the per-event SQL definitions
 * of the same read models as they were before the documents (articles, claims, quotes by source),
 * written independently of `evolve`, with the queries that answered from them. For random article
 * histories applied in random batch splits (with events delivered again now and then, which must
 * change nothing), `GET /articles/{id}` and `GET /articles` answer the same from both, and the same
 * as time travel folds the stream; the claim lists, the topics with their counts and labels and each
 * source's quotes hold the same; every batch costs at most six statements.
 *
 * CI runs 100 cases; FUZZ_RUNS=2000 npx jest test/projections/articles.property for a long run.
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 100);

type Step =
  | { kind: 'event'; article: number; type: string; data: Record<string, unknown>; metadata: EventMetadata; gap: number }
  | { kind: 'again'; index: number };

const nullable = <T>(arbitrary: fc.Arbitrary<T>) => fc.option(arbitrary, { nil: null });
const quoteText = fc.oneof(
  fc.constantFrom(...SENTENCES),
  fc.constantFrom('bridge reopens', 'Officials expect delays. Residents', 'not in any body', '   Traffic   will be\u00a0"light"  '),
);
const paragraph = fc.array(fc.constantFrom(...SENTENCES), { minLength: 1, maxLength: 3 }).map((s) => s.join('  '));
const body = fc.array(paragraph, { minLength: 0, maxLength: 3 }).map((ps) => ps.join('\n\n'));

function eventStep(type: string, data: fc.Arbitrary<Record<string, unknown>>, article = fc.integer({ min: 0, max: 3 })) {
  return fc.record({ kind: fc.constant('event' as const), article, type: fc.constant(type), data, metadata, gap: fc.nat(3) });
}

const drafted = eventStep(
  'ArticleDrafted',
  fc.record({ headline: fc.constantFrom('Bridge reopens', 'Council votes'), body, byline: nullable(fc.constant('A. R.')), desk: nullable(fc.constant('City')) }),
  fc.integer({ min: 0, max: 2 }),
);

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: drafted },
  { weight: 2, arbitrary: eventStep('HeadlineChanged', fc.record({ headline: fc.constantFrom('Bridge reopens at last', 'Vote delayed') })) },
  { weight: 3, arbitrary: eventStep('BodyRevised', fc.record({ body, returnedToDraft: fc.boolean() }, { requiredKeys: ['body'] })) },
  {
    weight: 5,
    arbitrary: eventStep(
      'QuoteAdded',
      fc.record({ quoteId: fc.constantFrom(...QUOTES), text: quoteText, speaker: fc.constantFrom('Jo', 'Mo'), paragraph: fc.integer({ min: 0, max: 3 }) }),
    ),
  },
  {
    weight: 4,
    arbitrary: eventStep(
      'SourceAttributed',
      fc.record({
        quoteId: fc.constantFrom(...QUOTES),
        source: fc.record({
          id: fc.constantFrom('5a1e0d20-0000-4000-8000-0000000000a1', '5a1e0d20-0000-4000-8000-0000000000a2'),
          name: fc.constantFrom('Jane Doe', 'Sam Roe'),
          title: nullable(fc.constantFrom('Engineer', 'Mayor')),
          organization: nullable(fc.constantFrom('Bridge Works', 'City Council')),
        }),
        attribution: nullable(fc.constantFrom('told reporters', 'said in a statement')),
        method: fc.constantFrom('interview', 'statement'),
      }),
    ),
  },
  { weight: 2, arbitrary: eventStep('QuoteWithdrawn', fc.record({ quoteId: fc.constantFrom(...QUOTES), reason: fc.constant('could not confirm') })) },
  { weight: 4, arbitrary: eventStep('TopicTagged', fc.record({ slug: fc.constantFrom('city', 'transport', 'weather'), label: fc.constantFrom('City', 'Transport', 'Weather', 'City Hall') })) },
  { weight: 3, arbitrary: eventStep('TopicUntagged', fc.record({ slug: fc.constantFrom('city', 'transport', 'weather', 'never-tagged') })) },
  {
    weight: 3,
    arbitrary: eventStep(
      'ClaimRecorded',
      fc.record({ claimId: fc.constantFrom(...CLAIMS), text: fc.constantFrom('The bridge cost 4m.', 'It is the oldest bridge.'), quoteId: nullable(fc.constantFrom(...QUOTES)) }),
    ),
  },
  {
    weight: 3,
    arbitrary: eventStep(
      'ClaimVerdictRecorded',
      fc.record({
        claimId: fc.constantFrom(...CLAIMS),
        verdict: fc.constantFrom('verified', 'false', 'misleading'),
        evidence: fc.array(fc.record({ url: fc.constant('https://example.org/e'), note: fc.constantFrom('minutes', 'budget "line"') }, { requiredKeys: ['note'] }), { maxLength: 2 }),
        note: nullable(fc.constantFrom('checked twice')),
      }),
    ),
  },
  { weight: 1, arbitrary: eventStep('ArticleReturnedToDraft', fc.record({ from: fc.constantFrom('in_review', 'approved') })) },
  { weight: 1, arbitrary: eventStep('ArticleSubmitted', fc.constant({ submittedBy: 'rita' })) },
  { weight: 1, arbitrary: eventStep('ArticleApproved', fc.constant({ approvedBy: 'ed' })) },
  { weight: 1, arbitrary: eventStep('ArticlePublished', fc.constant({})) },
  { weight: 1, arbitrary: eventStep('ArticleRetracted', fc.constant({ reason: 'wrong' })) },
  { weight: 1, arbitrary: eventStep('CorrectionIssued', fc.record({ text: fc.constant('An earlier version misspelled a name.') })) },
  // A re-delivery of an earlier event: same id, position and revision.
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('again' as const), index: fc.nat() }) },
);

/** Mostly some articles drafted first, then anything, in any order. */
const history = fc
  .tuple(fc.array(drafted, { maxLength: 3 }), fc.array(step, { minLength: 1, maxLength: 60, size: 'max' }))
  .map(([genesis, rest]) => [...genesis, ...rest]);

/** The log, and which of its entries are re-deliveries (the oracle is fed each event once). */
function eventsOf(steps: Step[]): { events: ProjectedEvent[]; again: Set<number> } {
  let position = 9_007_199_254_740_000n;
  const revisions = new Map<number, number>();
  const events: ProjectedEvent[] = [];
  const again = new Set<number>();
  for (const s of steps) {
    if (s.kind === 'again') {
      if (events.length > 0) {
        again.add(events.length);
        events.push(events[s.index % events.length]);
      }
      continue;
    }
    const revision = (revisions.get(s.article) ?? -1) + 1;
    revisions.set(s.article, revision);
    position += 65_536n + BigInt(s.gap);
    const data = s.type === 'ArticleDrafted' ? { articleId: ARTICLES[s.article], ...s.data } : s.data;
    events.push({
      id: randomUUID(),
      streamId: `article-${ARTICLES[s.article]}`,
      revision,
      position: String(position),
      type: s.type,
      data,
      metadata: { schemaVersion: 1, ...s.metadata },
      created: new Date(Date.UTC(2024, 0, 1) + Number(position % 1_000_000n) * 1000),
    });
  }
  return { events, again };
}


// ─────────────────────────────────────────────── the lists the derived tables answer ──

const S = (schema: string) => quoteIdent(schema);

/** The claim lists, the topics and the sources' quotes as the derived tables and the documents answer them. */
async function derivedAnswers(client: PoolClient, schema: string) {
  const { rows: claims } = await client.query<{ article_id: string; headline: string; seq: string; verdict: string | null; claim: ClaimState; checked: { by: Who; at: string } | null }>(
    `SELECT c.article_id, a.doc -> 'article' ->> 'headline' AS headline, c.seq::text, c.verdict,
            a.doc -> 'article' -> 'claims' -> c.claim_id AS claim, a.doc -> 'checked' -> c.claim_id AS checked
     FROM ${S(schema)}.article_claims c JOIN ${S(schema)}.articles a ON a.id = c.article_id ORDER BY c.seq`,
  );
  const { rows: topics } = await client.query(`SELECT slug, label, article_count FROM ${S(schema)}.topics WHERE article_count > 0 ORDER BY slug`);
  const { rows: taggings } = await client.query(`SELECT article_id, slug FROM ${S(schema)}.article_topics ORDER BY 1, 2`);
  const { rows: quotes } = await client.query<{ article_id: string; source_id: string; attributed_at: string; headline: string; quote: QuoteView }>(
    `SELECT q.article_id, q.source_id, q.attributed_at::text, a.doc -> 'article' ->> 'headline' AS headline, a.doc -> 'article' -> 'quotes' -> q.quote_id AS quote
     FROM ${S(schema)}.article_quotes q JOIN ${S(schema)}.articles a ON a.id = q.article_id ORDER BY q.attributed_at`,
  );
  return {
    claims: claims.map((r) => ({ articleId: r.article_id, headline: r.headline, seq: r.seq, verdict: r.verdict, claim: asJson(claimView(r.claim, r.checked ?? undefined)) })),
    topics,
    taggings,
    quotes: quotes.map((r) => ({
      articleId: r.article_id,
      sourceId: r.source_id,
      attributedAt: r.attributed_at,
      headline: r.headline,
      quote: { id: r.quote.id, text: r.quote.text, attribution: r.quote.attribution ?? null, method: r.quote.method ?? null, status: r.quote.status },
    })),
  };
}

/**
 * The same from the oracles' tables, with the queries that answered from them. Topic counts are the
 * articles oracle's taggings; a topic's label is its first tagging of a drafted article.
 */
async function oracleAnswers(client: PoolClient, schemas: Map<Projection, string>, once: ProjectedEvent[]) {
  const [articles, claims, sources] = [schemas.get(articlesOracle)!, schemas.get(claimsOracle)!, schemas.get(sourcesOracle)!];
  const { rows: claimRows } = await client.query(
    `SELECT c.article_id, a.headline, c.seq::text, c.verdict, c.id, c.text, c.quote_id, c.evidence, c.note, c.checked_by_id, c.checked_by_name, c.checked_at
     FROM ${S(claims)}.claims c JOIN ${S(claims)}.articles a ON a.id = c.article_id ORDER BY c.seq`,
  );
  const { rows: taggings } = await client.query(`SELECT article_id, slug FROM ${S(articles)}.topics ORDER BY 1, 2`);
  const labels = new Map<string, string>();
  const drafted = new Set<string>();
  for (const event of once) {
    const article = event.streamId.slice('article-'.length);
    if (event.type === 'ArticleDrafted') drafted.add(article);
    const { slug, label } = event.data as { slug: string; label: string };
    if (event.type === 'TopicTagged' && drafted.has(article) && !labels.has(slug)) labels.set(slug, label);
  }
  const counts = new Map<string, number>();
  for (const { slug } of taggings) counts.set(slug, (counts.get(slug) ?? 0) + 1);
  const { rows: quoteRows } = await client.query(
    `SELECT q.article_id, q.source_id, q.attributed_at::text, a.headline, q.quote_id, q.text, q.attribution, q.method, q.status
     FROM ${S(sources)}.quotes q JOIN ${S(sources)}.articles a ON a.id = q.article_id
     WHERE q.source_id IS NOT NULL ORDER BY q.attributed_at`,
  );
  return {
    claims: claimRows.map((r) => ({
      articleId: r.article_id,
      headline: r.headline,
      seq: r.seq,
      verdict: r.verdict,
      claim: asJson({
        id: r.id,
        text: r.text,
        quoteId: r.quote_id,
        verdict: r.verdict,
        evidence: r.evidence,
        note: r.note,
        checkedBy: r.checked_by_id === null ? null : { id: r.checked_by_id, name: r.checked_by_name ?? '' },
        checkedAt: r.checked_at,
      }),
    })),
    topics: [...counts].sort(([a], [b]) => (a < b ? -1 : 1)).map(([slug, n]) => ({ slug, label: labels.get(slug), article_count: n })),
    taggings,
    quotes: quoteRows.map((r) => ({
      articleId: r.article_id,
      sourceId: r.source_id,
      attributedAt: r.attributed_at,
      headline: r.headline,
      quote: { id: r.quote_id, text: r.text, attribution: r.attribution, method: r.method, status: r.status },
    })),
  };
}

/** A JSON round trip: what an HTTP client would see (undefined fields gone). */
const asJson = (value: unknown) => JSON.parse(JSON.stringify(value)) as unknown;

/** Live (nothing held), or a build's batches holding documents in memory, written when these say (cycled). */
const holding = fc.option(fc.array(fc.boolean(), { minLength: 1, maxLength: 4 }), { nil: null, freq: 2 });

describe('articles documents equal the per-event oracle', () => {
  let database: Awaited<ReturnType<typeof projectionsDatabase>>;
  let pool: Pool;
  let schemas: Map<Projection, string>;

  beforeAll(async () => {
    database = await projectionsDatabase([
      [articlesProjection, 'prop_doc_articles'],
      ...[articlesOracle, claimsOracle, sourcesOracle].map((oracle) => [oracle, `prop_oracle_${oracle.name}`] as const),
    ]);
    ({ pool, schemas } = database);
  });

  afterAll(async () => {
    await database?.drop();
  });

  it(`answer GET /articles and GET /articles/{id} alike, and as time travel does, whatever the batches (${RUNS} runs)`, async () => {
    const client: PoolClient = await pool.connect();
    const oracleSql = boundSql(client, schemas.get(articlesOracle)!, tableNames(articlesOracle));
    const docSql = boundSql(client, schemas.get(articlesProjection)!, tableNames(articlesProjection));
    let statements = 0;
    const counted = ((text: string, params?: unknown[]) => {
      statements++;
      return docSql(text, params);
    }) as Sql;
    let [drafts, claims, topics, quotes] = [0, 0, 0, 0];
    try {
      await fc.assert(
        fc.asyncProperty(history, split, holding, async (steps, sizes, flushes) => {
          const { events, again } = eventsOf(steps);
          await client.query('BEGIN');
          try {
            const once = events.filter((_, i) => !again.has(i));
            await articlesOracle.apply(once, oracleSql);
            // The claims and quotes oracles kept events of articles not yet drafted (no real log has them): they get the rest.
            const drafted = new Set<string>();
            const ofDrafted = once.filter((e) => (e.type === 'ArticleDrafted' && drafted.add(e.streamId), drafted.has(e.streamId)));
            await claimsOracle.apply(ofDrafted, boundSql(client, schemas.get(claimsOracle)!, tableNames(claimsOracle)));
            await sourcesOracle.apply(ofDrafted.filter((e) => sourcesOracle.types.has(e.type)), boundSql(client, schemas.get(sourcesOracle)!, tableNames(sourcesOracle)));
            const cut = batches(events, sizes);
            const documents = new Map<string, unknown>();
            for (const [i, batch] of cut.entries()) {
              statements = 0;
              // A build's batches may hold documents in memory (see Held): the last one always writes them.
              const held = flushes && { flush: i === cut.length - 1 || flushes[i % flushes.length], documents };
              // Held: a build's, which COPYs the rows of articles not in its tables yet.
              await articlesProjection.apply(batch, counted, held ? applyContext(client, schemas.get(articlesProjection)!, tableNames(articlesProjection), true, held) : undefined);
              expect(statements).toBeLessThanOrEqual(6);
              if (held?.flush) expect(documents.size).toBe(0);
              // Nothing held: the tables hold every event so far, as a checkpoint there says.
              if (held && documents.size === 0 && i % 3 === 0) {
                const upTo = new Set(cut.slice(0, i + 1).flat());
                const { rows } = await docSql<{ id: string; doc: ArticleDocument }>('SELECT id, doc FROM {articles}');
                for (const id of ARTICLES) {
                  const folded = foldArticleDocument(null, events.filter((e, k) => upTo.has(e) && !again.has(k) && e.streamId === `article-${id}`));
                  expect({ id, doc: asJson(rows.find((r) => r.id === id)?.doc ?? null) }).toEqual({ id, doc: asJson(folded) });
                }
              }
            }
            const { rows: docs } = await docSql<{ id: string; doc: ArticleDocument }>('SELECT id, doc FROM {articles}');
            drafts += docs.length;
            for (const id of ARTICLES) {
              const stored = docs.find((d) => d.id === id);
              const expected = await oracleArticleView(oracleSql, id);
              expect({ id, view: stored ? asJson(articleView(stored.doc)) : null }).toEqual({ id, view: expected && asJson(expected) });
              const stream = events.filter((e, i) => !again.has(i) && e.streamId === `article-${id}`);
              // Time travel's fold (these events are already upcast, as the runner hands them over).
              const folded = foldArticleDocument(null, stream);
              expect({ id, view: stored ? asJson(articleView(stored.doc)) : null }).toEqual({ id, view: folded && asJson(articleView(folded)) });
            }
            const { rows: list } = await docSql(
              `SELECT id, doc -> 'article' ->> 'headline' AS headline, status, (doc ->> 'revision')::int AS revision,
                      doc ->> 'updatedAt' AS "updatedAt", doc -> 'article' -> 'topics' AS topics
               FROM {articles} ORDER BY created_position DESC`,
            );
            expect(list).toEqual(await oracleArticleList(oracleSql));
            const derived = await derivedAnswers(client, schemas.get(articlesProjection)!);
            expect(derived).toEqual(await oracleAnswers(client, schemas, once));
            claims += derived.claims.length;
            topics += derived.topics.length;
            quotes += derived.quotes.length;
          } finally {
            await client.query('ROLLBACK');
          }
        }),
        { numRuns: RUNS },
      );
    } finally {
      client.release();
    }
    // What the runs exercised: histories that never draft an article prove little.
    expect(drafts).toBeGreaterThan(RUNS);
    process.stdout.write(`articles property: ${claims} claims, ${topics} topics, ${quotes} attributed quotes in the final states of ${RUNS} runs\n`);
    expect({ claims: claims > RUNS / 2, topics: topics > RUNS / 2, quotes: quotes > RUNS / 20 }).toEqual({ claims: true, topics: true, quotes: true });
  }, 600_000);
});
