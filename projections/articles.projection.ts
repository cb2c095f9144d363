import { ArticleDocument, ARTICLE_DOCUMENT_VERSION, foldArticleDocument } from '../src/newsroom/article/article.view';
import { ARTICLE_EVENT_TYPES } from '../src/newsroom/article/article.decider';
import { ApplyContext, Held, ProjectedEvent, Projection, RequiredFields, Sql, refuseMalformed } from './projection';
import { DerivedTable, RowChanges, approximateJsonLength, streamsToEvolve, syncRows, toJson } from './stream-documents';

/**
 * `articles`: one row per article holding its `ArticleDocument` (src/newsroom/article/article.view.ts:
 * the decider's state plus who and when, the same document time travel folds), which answers
 * `GET /articles/{id}` whole. Beside it, the small tables the lists need, each a pure function of the
 * documents (`derivedRows`):
 *
 * - `article_topics` (article, slug): the `topic` filters;
 * - `article_claims` (article, claim, where recorded, verdict): `GET /claims` and an article's claims;
 * - `article_quotes` (article, quote, source, where attributed): a source's quotes and its quote count;
 * - `topics` (slug, label as first tagged, how many articles carry it now): `GET /topics`.
 *
 * A batch is grouped by article: one statement loads the documents its events name, each is evolved in
 * memory with the batch's events for it (a re-delivery, at or below the revision applied, is passed by),
 * one statement writes back those that changed, and one statement per derived table applies what
 * changed in its rows, and one moves the topic counts. At most six statements a batch, however large.
 *
 * In a build (`context.held`), the changed documents stay in memory between batches until the runner
 * asks for them (or too many are held): an article a run of pages touches is written once, not once a
 * page, and no page loads back what the one before it wrote. An article written for the first time into a
 * build goes by COPY (documents and derived rows): a build's tables start empty, so nothing can conflict.
 */
export const articlesProjection: Projection = {
  name: 'articles',
  version: ARTICLE_DOCUMENT_VERSION,
  tables: [
    `CREATE TABLE {articles} (
       id               uuid PRIMARY KEY,
       created_position numeric NOT NULL UNIQUE,
       status           text NOT NULL,
       doc              jsonb NOT NULL
     )`,
    // A document is rewritten by every batch that touches its article and read whole: stored out of line but
    // not compressed, which spares PostgreSQL compressing it on each write (disk is cheaper than that CPU).
    `ALTER TABLE {articles} ALTER COLUMN doc SET STORAGE EXTERNAL`,
    `CREATE TABLE {article_topics} (
       article_id uuid NOT NULL,
       slug       text NOT NULL,
       PRIMARY KEY (article_id, slug)
     )`,
    `CREATE TABLE {article_claims} (
       article_id uuid NOT NULL,
       claim_id   text NOT NULL,
       seq        numeric NOT NULL UNIQUE,
       verdict    text,
       PRIMARY KEY (article_id, claim_id)
     )`,
    `CREATE TABLE {article_quotes} (
       article_id    uuid NOT NULL,
       quote_id      text NOT NULL,
       source_id     uuid NOT NULL,
       attributed_at numeric NOT NULL,
       PRIMARY KEY (article_id, quote_id)
     )`,
    `CREATE TABLE {topics} (
       slug          text PRIMARY KEY,
       label         text NOT NULL,
       article_count integer NOT NULL
     )`,
  ],
  indexes: [
    `CREATE INDEX IF NOT EXISTS articles_by_status ON {articles} (status, created_position)`,
    `CREATE INDEX IF NOT EXISTS article_topics_by_slug ON {article_topics} (slug, article_id)`,
    `CREATE INDEX IF NOT EXISTS article_claims_by_article ON {article_claims} (article_id, seq)`,
    `CREATE INDEX IF NOT EXISTS article_claims_by_verdict ON {article_claims} (verdict, seq)`,
    `CREATE INDEX IF NOT EXISTS article_quotes_by_source ON {article_quotes} (source_id, attributed_at)`,
  ],
  // Older versions have no derived tables (1 stored rows, 2 documents alone). Raise this to `version`
  // whenever the queries cannot read the tables of the version before; a new version of the document
  // alone (an `evolve` change) keeps the tables readable while they are rebuilt.
  readableFrom: 3,
  types: new Set(ARTICLE_EVENT_TYPES),
  catchAll: false,
  apply: applyArticles,
};

/** What the lists need of one document, as rows of the derived tables (keyed as their primary keys). */
export function derivedRows(id: string, doc: ArticleDocument | null) {
  const article = doc?.article;
  return {
    topics: (article?.topics ?? []).map((t) => ({ article_id: id, slug: t.slug })),
    claims: (article?.claimOrder ?? []).map((claimId) => {
      const verdicts = article!.claims[claimId].verdicts;
      return { article_id: id, claim_id: claimId, seq: doc!.recordedAt[claimId], verdict: verdicts.at(-1)?.verdict ?? null };
    }),
    quotes: (article?.quoteOrder ?? [])
      .filter((quoteId) => article!.quotes[quoteId].source !== null && doc!.attributedAt[quoteId] !== undefined)
      .map((quoteId) => ({ article_id: id, quote_id: quoteId, source_id: article!.quotes[quoteId].source!.id, attributed_at: doc!.attributedAt[quoteId] })),
  };
}

const ARTICLE_TOPICS: DerivedTable = { table: 'article_topics', key: { article_id: 'uuid', slug: 'text' }, columns: {} };
const ARTICLE_CLAIMS: DerivedTable = { table: 'article_claims', key: { article_id: 'uuid', claim_id: 'text' }, columns: { seq: 'numeric', verdict: 'text' } };
const ARTICLE_QUOTES: DerivedTable = { table: 'article_quotes', key: { article_id: 'uuid', quote_id: 'text' }, columns: { source_id: 'uuid', attributed_at: 'numeric' } };

/**
 * What an article, a quote, a topic, a claim and a correction are made of: an event without it, or with
 * text PostgreSQL cannot store, is refused, and the runner isolates it as the projection's poison event
 * (see refuseMalformed).
 */
const REQUIRED: RequiredFields = {
  ArticleDrafted: { headline: 'string', body: 'string', byline: 'string?', desk: 'string?' },
  HeadlineChanged: { headline: 'string' },
  BodyRevised: { body: 'string' },
  QuoteAdded: { quoteId: 'string', text: 'string', speaker: 'string', paragraph: 'number' },
  SourceAttributed: { quoteId: 'string', attribution: 'string?' },
  QuoteWithdrawn: { quoteId: 'string' },
  TopicTagged: { slug: 'string', label: 'string' },
  TopicUntagged: { slug: 'string' },
  ClaimRecorded: { claimId: 'string', text: 'string' },
  ClaimVerdictRecorded: { claimId: 'string', note: 'string?' },
  CorrectionIssued: { text: 'string' },
};

/** The rows `derivedRows` gives. */
type DerivedRows = ReturnType<typeof derivedRows>;

interface Tagging {
  slug: string;
  label: string;
  position: bigint;
}

/** An article a batch changes: what its rows say now, and its document after the events applied so far. */
interface ArticleChange {
  id: string;
  createdPosition: string;
  /** Its derived rows as stored (none for a new article), and the labels of the topics it carried. */
  before: DerivedRows;
  storedLabels: Map<string, string>;
  doc: ArticleDocument;
  /** The taggings folded since it was stored: a topic created meanwhile takes its first tagging's label. */
  taggings: Tagging[];
  /** Whether its rows are in the tables (it was loaded from them): into a build, the rows of one that is not are COPYed. */
  inTables: boolean;
}

/** A changed article as it will be written: the document as its JSON text, and the derived rows it gives. */
type ArticleWrite = Omit<ArticleChange, 'doc'> & { status: string; json: string; after: DerivedRows };

function toWrite({ doc, ...change }: ArticleChange): ArticleWrite {
  return { ...change, status: doc.article.status, json: toJson(doc), after: derivedRows(change.id, doc) };
}

/**
 * A changed article a build holds between batches (see Held), with about how long its document's JSON is.
 * Held as the objects the fold made, not as their JSON: writing a document out and parsing it back on
 * every batch that touches it costs more CPU than the heap it would save (bench/RESULTS.md).
 */
type HeldArticle = ArticleChange & { size: number };

/**
 * At most about this much document JSON (in characters, by `approximateJsonLength`) is held between the
 * batches of a build (see Held): past it, everything held is written. Enough for the articles a few
 * thousand events in a row touch; a log that touches more of them at once is written more often, as a
 * live batch would be.
 */
const MAX_HELD_JSON = 4 * 1024 * 1024;

/** The size of what would be held with `adding` in it (an article held again counts once, at its new size). */
function heldSize(held: Map<string, HeldArticle>, adding: readonly HeldArticle[]): number {
  const replaced = new Set(adding.map((a) => a.id));
  let size = 0;
  for (const article of held.values()) if (!replaced.has(article.id)) size += article.size;
  for (const article of adding) size += article.size;
  return size;
}

/** One statement: the stored articles the batch's events name, but for those held in memory. */
function loadArticles(sql: Sql, held: Map<string, HeldArticle> | null) {
  return async (keys: string[]) => {
    const { rows } = await sql<{ key: string; id: string; created_position: string | null; doc: ArticleDocument | null }>(
      `SELECT k.key, k.key::uuid::text AS id, a.created_position::text AS created_position, a.doc
       FROM unnest($1::text[]) AS k(key) LEFT JOIN {articles} a ON a.id = k.key::uuid AND k.key::uuid <> ALL($2::uuid[])`,
      [keys, held ? [...held.keys()] : []],
    );
    return rows.map(({ key, id, created_position, doc }): { key: string; id: string; stored: ArticleChange | null } => {
      const kept = held?.get(id);
      if (kept) return { key, id, stored: kept };
      if (!doc) return { key, id, stored: null };
      const storedLabels = new Map(doc.article.topics.map((t) => [t.slug, t.label]));
      return { key, id, stored: { id, createdPosition: created_position!, before: derivedRows(id, doc), storedLabels, doc, taggings: [], inTables: true } };
    });
  };
}

async function applyArticles(events: readonly ProjectedEvent[], sql: Sql, context?: ApplyContext): Promise<void> {
  const held = (context?.held ?? null) as (Held & { documents: Map<string, HeldArticle> }) | null;
  const streams = await streamsToEvolve<ArticleChange>(events, loadArticles(sql, held?.documents ?? null), (article) => article.doc.revision);
  const changed: ArticleChange[] = [];
  for (const { id, stored, fresh } of streams) {
    refuseMalformed(fresh, REQUIRED);
    const doc = foldArticleDocument(stored?.doc ?? null, fresh);
    if (!doc || doc === stored?.doc) continue;
    // The events `foldArticleDocument` folds: a new article's from its draft on.
    const folded = stored ? fresh : fresh.slice(fresh.findIndex((e) => e.type === 'ArticleDrafted'));
    const taggings = folded.filter((e) => e.type === 'TopicTagged').map((e) => ({ ...(e.data as { slug: string; label: string }), position: BigInt(e.position) }));
    changed.push({
      id,
      createdPosition: stored?.createdPosition ?? draftPosition(fresh),
      before: stored?.before ?? derivedRows(id, null),
      storedLabels: stored?.storedLabels ?? new Map(),
      doc,
      taggings: [...(stored?.taggings ?? []), ...taggings],
      inTables: stored?.inTables ?? false,
    });
  }
  if (held && !held.flush) {
    // Held as the objects the fold made (the next batch folds on from them): no JSON written or read back a batch.
    const sized = changed.map((article) => ({ ...article, size: approximateJsonLength(article.doc) }));
    if (heldSize(held.documents, sized) <= MAX_HELD_JSON) {
      for (const article of sized) held.documents.set(article.id, article);
      return;
    }
  }
  const written = held ? new Map<string, ArticleChange>([...held.documents, ...changed.map((a) => [a.id, a] as const)]) : null;
  await writeArticles(sql, (written ? [...written.values()] : changed).map(toWrite), context?.bulk ? context.copy : null);
  held?.documents.clear();
}

/**
 * Writes the documents and what changed in their derived rows and topic counts: at most six statements
 * besides the COPYs.
 * Into a fresh build (`copy`), the documents and rows of articles not in its tables yet go by COPY: nothing
 * there to conflict with, and no difference to take.
 */
async function writeArticles(sql: Sql, articles: readonly ArticleWrite[], copy: ApplyContext['copy'] | null): Promise<void> {
  if (articles.length === 0) return;
  const added = copy ? articles.filter((a) => !a.inTables) : [];
  const changed = copy ? articles.filter((a) => a.inTables) : articles;
  const [topics, claims, quotes] = [new RowChanges(), new RowChanges(), new RowChanges()];
  const taggings: Tagging[] = [];
  /** The labels of topics the stored articles carried (for counting them down). */
  const known = new Map<string, string>();
  for (const { before, after, storedLabels, taggings: tagged } of changed) {
    topics.add(ARTICLE_TOPICS, before.topics, after.topics);
    claims.add(ARTICLE_CLAIMS, before.claims, after.claims);
    quotes.add(ARTICLE_QUOTES, before.quotes, after.quotes);
    taggings.push(...tagged);
    for (const [slug, label] of storedLabels) known.set(slug, label);
  }
  const addedTopics = added.flatMap((a) => a.after.topics);
  for (const article of added) taggings.push(...article.taggings);
  if (copy && added.length > 0) {
    await copy('articles', ['id', 'created_position', 'status', 'doc'], added.map((a) => [a.id, a.createdPosition, a.status, a.json]));
    await copy('article_topics', ['article_id', 'slug'], addedTopics.map((r) => [r.article_id, r.slug]));
    const claimRows = added.flatMap((a) => a.after.claims);
    await copy('article_claims', ['article_id', 'claim_id', 'seq', 'verdict'], claimRows.map((r) => [r.article_id, r.claim_id, r.seq, r.verdict]));
    const quoteRows = added.flatMap((a) => a.after.quotes);
    await copy('article_quotes', ['article_id', 'quote_id', 'source_id', 'attributed_at'], quoteRows.map((r) => [r.article_id, r.quote_id, r.source_id, r.attributed_at]));
  }
  if (changed.length > 0) {
    // The documents' JSON as it is, spliced into the array: no second serialization.
    const rows = changed.map((a) => `{"id":${JSON.stringify(a.id)},"created_position":${JSON.stringify(a.createdPosition)},"status":${JSON.stringify(a.status)},"doc":${a.json}}`);
    await sql(
      `INSERT INTO {articles} (id, created_position, status, doc)
       SELECT id, created_position, status, doc FROM jsonb_to_recordset($1::jsonb)
         AS r(id uuid, created_position numeric, status text, doc jsonb)
       ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, doc = EXCLUDED.doc`,
      [`[${rows.join(',')}]`],
    );
    await syncRows(sql, ARTICLE_TOPICS, topics);
    await syncRows(sql, ARTICLE_CLAIMS, claims);
    await syncRows(sql, ARTICLE_QUOTES, quotes);
  }
  await countTopics(sql, taggings, known, [...topics.upserted, ...addedTopics], topics.removed);
}

/**
 * Moves each topic's article count by the taggings the batch added and removed. A topic is created by
 * its first tagging (in log order), with that tagging's label, even when the batch also removes it.
 */
async function countTopics(
  sql: Sql,
  taggings: Tagging[],
  known: Map<string, string>,
  tagged: readonly Record<string, unknown>[],
  untagged: readonly Record<string, unknown>[],
): Promise<void> {
  const topics = new Map<string, { label: string; delta: number }>();
  for (const { slug, label } of taggings.sort((a, b) => (a.position < b.position ? -1 : 1))) {
    if (!topics.has(slug)) topics.set(slug, { label, delta: 0 });
  }
  const count = (slug: string, by: number) => {
    const topic = topics.get(slug) ?? { label: known.get(slug)!, delta: 0 };
    topics.set(slug, { ...topic, delta: topic.delta + by });
  };
  for (const row of tagged) count(String(row.slug), 1);
  for (const row of untagged) count(String(row.slug), -1);
  if (topics.size === 0) return;
  await sql(
    `INSERT INTO {topics} (slug, label, article_count)
     SELECT slug, label, delta FROM jsonb_to_recordset($1::jsonb) AS r(slug text, label text, delta integer)
     ON CONFLICT (slug) DO UPDATE SET article_count = {topics}.article_count + EXCLUDED.article_count`,
    [toJson([...topics].map(([slug, { label, delta }]) => ({ slug, label, delta })))],
  );
}

/** The position of the batch's `ArticleDrafted`: the article list's order and cursor. */
function draftPosition(fresh: readonly ProjectedEvent[]): string {
  return fresh.find((e) => e.type === 'ArticleDrafted')!.position;
}
