/**
 * The per-event definition of this read model as it stood when it was a set of tables (one
 * statement set per event), with the query that answered GET /articles/{id} from them: an oracle,
 * written independently of the decider's `evolve`, that the property spec compares the articles
 * documents against. Kept verbatim; do not "fix" it without fixing the projection.
 */
import { findQuoteParagraph } from '../../../src/newsroom/text';
import { ProjectedEvent, perEventProjection, Sql, actorOf, occurredAt, streamEntityId } from '../../../projections/projection';

/**
 * `articles`: everything `GET /articles` and `GET /articles/{id}` answer. Rows mirror the decider's
 * `evolve` (and `foldArticle` for who/when), so the read model and time travel never disagree.
 * `seq` columns hold the position of the event that created the row: they order quotes, topics,
 * claims and corrections as the article state does.
 */
export const articlesOracle = perEventProjection({
  name: 'articles',
  version: 1,
  tables: [
    `CREATE TABLE {articles} (
       id               uuid PRIMARY KEY,
       headline         text NOT NULL,
       byline           text,
       desk             text,
       status           text NOT NULL,
       body             text NOT NULL,
       revision         integer NOT NULL,
       created_position numeric NOT NULL UNIQUE,
       created_at       text NOT NULL,
       updated_at       text NOT NULL,
       published_at     text
     )`,
    `CREATE INDEX ON {articles} (status, created_position)`,
    `CREATE TABLE {quotes} (
       article_id   uuid NOT NULL,
       id           uuid NOT NULL,
       seq          numeric NOT NULL,
       text         text NOT NULL,
       speaker      text NOT NULL,
       paragraph    integer NOT NULL,
       status       text NOT NULL,
       in_body      boolean NOT NULL,
       source       json,
       attribution  text,
       method       text,
       PRIMARY KEY (article_id, id)
     )`,
    `CREATE TABLE {topics} (
       article_id uuid NOT NULL,
       slug       text NOT NULL,
       label      text NOT NULL,
       seq        numeric NOT NULL,
       PRIMARY KEY (article_id, slug)
     )`,
    `CREATE INDEX ON {topics} (slug)`,
    `CREATE TABLE {claims} (
       article_id      uuid NOT NULL,
       id              uuid NOT NULL,
       seq             numeric NOT NULL,
       text            text NOT NULL,
       quote_id        uuid,
       verdict         text,
       evidence        json NOT NULL,
       note            text,
       checked_by_id   text,
       checked_by_name text,
       checked_at      text,
       PRIMARY KEY (article_id, id)
     )`,
    `CREATE TABLE {corrections} (
       article_id     uuid NOT NULL,
       seq            numeric NOT NULL,
       text           text NOT NULL,
       issued_at      text NOT NULL,
       issued_by_id   text NOT NULL,
       issued_by_name text NOT NULL,
       PRIMARY KEY (article_id, seq)
     )`,
  ],
  handlers: {
    ArticleDrafted: async (event, sql) => {
      const { headline, body, byline, desk } = event.data;
      const at = occurredAt(event);
      await sql(
        `INSERT INTO {articles} (id, headline, byline, desk, status, body, revision, created_position, created_at, updated_at)
         VALUES ($1, $2, $3, $4, 'draft', $5, $6, $7, $8, $8)
         ON CONFLICT (id) DO NOTHING`,
        [streamEntityId(event), headline, byline ?? null, desk ?? null, body, event.revision, event.position, at],
      );
      await touch(event, sql);
    },
    HeadlineChanged: async (event, sql) => {
      await sql(`UPDATE {articles} SET headline = $2 WHERE id = $1`, [streamEntityId(event), event.data.headline]);
      await touch(event, sql);
    },
    BodyRevised: async (event, sql) => {
      const id = streamEntityId(event);
      const { body, returnedToDraft } = event.data;
      await sql(`UPDATE {articles} SET body = $2, status = CASE WHEN $3 THEN 'draft' ELSE status END WHERE id = $1`, [id, body, returnedToDraft === true]);
      // As evolve does: live quotes are looked up in the new body; a quote that is gone keeps its last paragraph.
      const { rows } = await sql<{ id: string; text: string; paragraph: number }>(
        `SELECT id, text, paragraph FROM {quotes} WHERE article_id = $1 AND status <> 'withdrawn'`,
        [id],
      );
      for (const quote of rows) {
        const paragraph = findQuoteParagraph(body, quote.text);
        await sql(`UPDATE {quotes} SET in_body = $3, paragraph = $4 WHERE article_id = $1 AND id = $2`, [
          id,
          quote.id,
          paragraph !== null,
          paragraph ?? quote.paragraph,
        ]);
      }
      await touch(event, sql);
    },
    QuoteAdded: async (event, sql) => {
      const { quoteId, text, speaker, paragraph } = event.data;
      await sql(
        `INSERT INTO {quotes} (article_id, id, seq, text, speaker, paragraph, status, in_body)
         SELECT $1, $2, $3, $4, $5, $6, 'unattributed', true WHERE EXISTS (SELECT 1 FROM {articles} WHERE id = $1)
         ON CONFLICT (article_id, id) DO NOTHING`,
        [streamEntityId(event), quoteId, event.position, text, speaker, paragraph],
      );
      await touch(event, sql);
    },
    SourceAttributed: async (event, sql) => {
      const { quoteId, source, attribution, method } = event.data;
      const snapshot = { id: source.id, name: source.name, title: source.title, organization: source.organization };
      await sql(
        `UPDATE {quotes} SET status = 'attributed', source = $3, attribution = $4, method = $5 WHERE article_id = $1 AND id = $2`,
        [streamEntityId(event), quoteId, JSON.stringify(snapshot), attribution ?? null, method],
      );
      await touch(event, sql);
    },
    QuoteWithdrawn: async (event, sql) => {
      await sql(`UPDATE {quotes} SET status = 'withdrawn' WHERE article_id = $1 AND id = $2`, [streamEntityId(event), event.data.quoteId]);
      await touch(event, sql);
    },
    TopicTagged: async (event, sql) => {
      await sql(
        `INSERT INTO {topics} (article_id, slug, label, seq)
         SELECT $1, $2, $3, $4 WHERE EXISTS (SELECT 1 FROM {articles} WHERE id = $1)
         ON CONFLICT (article_id, slug) DO NOTHING`,
        [streamEntityId(event), event.data.slug, event.data.label, event.position],
      );
      await touch(event, sql);
    },
    TopicUntagged: async (event, sql) => {
      await sql(`DELETE FROM {topics} WHERE article_id = $1 AND slug = $2`, [streamEntityId(event), event.data.slug]);
      await touch(event, sql);
    },
    ClaimRecorded: async (event, sql) => {
      const { claimId, text, quoteId } = event.data;
      await sql(
        `INSERT INTO {claims} (article_id, id, seq, text, quote_id, evidence)
         SELECT $1, $2, $3, $4, $5, '[]' WHERE EXISTS (SELECT 1 FROM {articles} WHERE id = $1)
         ON CONFLICT (article_id, id) DO NOTHING`,
        [streamEntityId(event), claimId, event.position, text, quoteId ?? null],
      );
      await touch(event, sql);
    },
    ClaimVerdictRecorded: async (event, sql) => {
      const { claimId, verdict, evidence, note } = event.data;
      const by = actorOf(event);
      await sql(
        `UPDATE {claims} SET verdict = $3, evidence = $4, note = $5, checked_by_id = $6, checked_by_name = $7, checked_at = $8
         WHERE article_id = $1 AND id = $2`,
        [streamEntityId(event), claimId, verdict, JSON.stringify(evidence ?? []), note ?? null, by.id, by.name, occurredAt(event)],
      );
      await touch(event, sql);
    },
    ArticleReturnedToDraft: (event, sql) => setStatus(event, sql, 'draft'),
    ArticleSubmitted: (event, sql) => setStatus(event, sql, 'in_review'),
    ArticleApproved: (event, sql) => setStatus(event, sql, 'approved'),
    ArticlePublished: async (event, sql) => {
      await sql(`UPDATE {articles} SET status = 'published', published_at = coalesce(published_at, $2) WHERE id = $1`, [
        streamEntityId(event),
        occurredAt(event),
      ]);
      await touch(event, sql);
    },
    ArticleRetracted: (event, sql) => setStatus(event, sql, 'retracted'),
    CorrectionIssued: async (event, sql) => {
      const by = actorOf(event);
      await sql(
        `INSERT INTO {corrections} (article_id, seq, text, issued_at, issued_by_id, issued_by_name)
         SELECT $1, $2, $3, $4, $5, $6 WHERE EXISTS (SELECT 1 FROM {articles} WHERE id = $1)`,
        [streamEntityId(event), event.position, event.data.text, occurredAt(event), by.id, by.name],
      );
      await touch(event, sql);
    },
  },
});

/** Every event moves the article's revision and updatedAt, as `foldArticle` does. */
async function touch(event: ProjectedEvent<unknown>, sql: Sql): Promise<void> {
  await sql(`UPDATE {articles} SET revision = $2, updated_at = $3 WHERE id = $1`, [streamEntityId(event), event.revision, occurredAt(event)]);
}

async function setStatus(event: ProjectedEvent<unknown>, sql: Sql, status: string): Promise<void> {
  await sql(`UPDATE {articles} SET status = $2 WHERE id = $1`, [streamEntityId(event), status]);
  await touch(event, sql);
}

/** GET /articles/{id} as it was answered from these tables (null when there is no such article). */
export async function oracleArticleView(sql: Sql, articleId: string): Promise<Record<string, unknown> | null> {
  const { rows } = await sql(
    `SELECT a.id, a.headline, a.byline, a.desk, a.status, a.body, a.revision, a.created_at AS "createdAt", a.updated_at AS "updatedAt",
       a.published_at AS "publishedAt",
       coalesce((SELECT json_agg(json_build_object('id', q.id, 'text', q.text, 'speaker', q.speaker, 'paragraph', q.paragraph,
                                                   'status', q.status, 'inBody', q.in_body, 'source', q.source,
                                                   'attribution', q.attribution, 'method', q.method) ORDER BY q.seq)
                 FROM {quotes} q WHERE q.article_id = a.id), '[]'::json) AS quotes,
       coalesce((SELECT json_agg(json_build_object('slug', t.slug, 'label', t.label) ORDER BY t.seq)
                 FROM {topics} t WHERE t.article_id = a.id), '[]'::json) AS topics,
       coalesce((SELECT json_agg(json_build_object('id', c.id, 'text', c.text, 'quoteId', c.quote_id, 'verdict', c.verdict,
                                                   'evidence', c.evidence, 'note', c.note,
                                                   'checkedBy', CASE WHEN c.checked_by_id IS NULL THEN NULL
                                                                     ELSE json_build_object('id', c.checked_by_id, 'name', c.checked_by_name) END,
                                                   'checkedAt', c.checked_at) ORDER BY c.seq)
                 FROM {claims} c WHERE c.article_id = a.id), '[]'::json) AS claims,
       coalesce((SELECT json_agg(json_build_object('text', k.text, 'issuedAt', k.issued_at,
                                                   'issuedBy', json_build_object('id', k.issued_by_id, 'name', k.issued_by_name)) ORDER BY k.seq)
                 FROM {corrections} k WHERE k.article_id = a.id), '[]'::json) AS corrections
     FROM {articles} a WHERE a.id = $1`,
    [articleId],
  );
  return rows[0] ?? null;
}

/** GET /articles (unfiltered, newest draft first) as it was answered from these tables. */
export async function oracleArticleList(sql: Sql): Promise<Record<string, unknown>[]> {
  const { rows } = await sql(
    `SELECT a.id, a.headline, a.status, a.revision, a.updated_at AS "updatedAt",
       coalesce((SELECT json_agg(json_build_object('slug', t.slug, 'label', t.label) ORDER BY t.seq)
                 FROM {topics} t WHERE t.article_id = a.id), '[]'::json) AS topics
     FROM {articles} a ORDER BY a.created_position DESC`,
  );
  return rows;
}
