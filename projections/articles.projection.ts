import { ArticleDocument, ARTICLE_DOCUMENT_VERSION, foldArticleDocument } from '../src/newsroom/article/article.view';
import { ARTICLE_EVENT_TYPES } from '../src/newsroom/article/article.decider';
import { ProjectedEvent, Projection, Sql, streamEntityId } from './projection';

/**
 * `articles`: everything `GET /articles` and `GET /articles/{id}` answer, one row per article
 * holding its `ArticleDocument` (src/newsroom/article/article.view.ts: the decider's state plus
 * who and when, the same document time travel folds). Beside it, the columns the list filters on:
 * `status`, and `created_position` (the position of `ArticleDrafted`, the list's order and cursor).
 * Topic filters use the GIN index on the document's topics.
 *
 * A batch is grouped by article: one statement loads the documents its events name, each is evolved
 * in memory with the batch's events for it, and one statement writes back those that changed. An
 * event at or below the revision already applied (stored, or earlier in the batch) is a re-delivery
 * and is passed by. The version follows the document's, so documents of an older shape are rebuilt.
 */
export const articlesProjection: Projection = {
  name: 'articles',
  version: ARTICLE_DOCUMENT_VERSION,
  tables: [
    `CREATE TABLE {articles} (
       id               uuid PRIMARY KEY,
       created_position numeric NOT NULL UNIQUE,
       status           text NOT NULL,
       doc              jsonb NOT NULL,
       -- An event whose data does not make an article (a draft without a headline, a quote without text)
       -- fails here, and is then isolated as the projection's poison event.
       CHECK (jsonb_path_exists(doc, '$.article ? (@.headline.type() == "string" && @.body.type() == "string")')
         AND NOT jsonb_path_exists(doc, '$.article.quotes.* ? (!(@.text.type() == "string") || !(@.speaker.type() == "string") || !(@.paragraph.type() == "number"))')
         AND NOT jsonb_path_exists(doc, '$.article.topics[*] ? (!(@.slug.type() == "string") || !(@.label.type() == "string"))')
         AND NOT jsonb_path_exists(doc, '$.article.claims.* ? (!(@.text.type() == "string"))')
         AND NOT jsonb_path_exists(doc, '$.article.corrections[*] ? (!(@.text.type() == "string"))'))
     )`,
    `CREATE INDEX ON {articles} (status, created_position)`,
    `CREATE INDEX ON {articles} USING gin ((doc -> 'article' -> 'topics') jsonb_path_ops)`,
  ],
  // Version 1 stored rows, not documents. Raise this to `version` when articleView cannot read older documents.
  readableFrom: 2,
  types: new Set(ARTICLE_EVENT_TYPES),
  catchAll: false,
  apply: applyArticles,
};

interface Stored {
  /** The stream's id as the log spells it. */
  key: string;
  /** The same id as PostgreSQL reads a uuid: the row's key. */
  id: string;
  created_position: string | null;
  doc: ArticleDocument | null;
}

async function applyArticles(events: readonly ProjectedEvent[], sql: Sql): Promise<void> {
  const byStream = new Map<string, ProjectedEvent[]>();
  for (const event of events) {
    const key = streamEntityId(event);
    const list = byStream.get(key);
    if (list) list.push(event);
    else byStream.set(key, [event]);
  }
  if (byStream.size === 0) return;
  // PostgreSQL reads the ids (an id that is no uuid fails the batch, and then its event alone).
  const { rows } = await sql<Stored>(
    `SELECT k.key, k.key::uuid::text AS id, a.created_position::text AS created_position, a.doc
     FROM unnest($1::text[]) AS k(key) LEFT JOIN {articles} a ON a.id = k.key::uuid`,
    [[...byStream.keys()]],
  );
  const articles = new Map<string, { createdPosition: string | null; doc: ArticleDocument | null; events: ProjectedEvent[] }>();
  for (const row of rows) {
    const article = articles.get(row.id) ?? { createdPosition: row.created_position, doc: row.doc, events: [] };
    article.events.push(...byStream.get(row.key)!);
    articles.set(row.id, article);
  }
  const changed: { id: string; created_position: string; status: string; doc: ArticleDocument }[] = [];
  for (const [id, article] of articles) {
    // Two spellings of one id are one article: its events in log order.
    const ordered = article.events.length > 1 ? [...article.events].sort(byPosition) : article.events;
    let applied = article.doc?.revision ?? -1;
    const fresh = ordered.filter((e) => e.revision > applied && ((applied = e.revision), true));
    if (fresh.length === 0) continue;
    const doc = foldArticleDocument(article.doc, fresh);
    if (!doc || doc === article.doc) continue;
    const createdPosition = article.createdPosition ?? fresh.find((e) => e.type === 'ArticleDrafted')!.position;
    changed.push({ id, created_position: createdPosition, status: doc.article.status, doc });
  }
  if (changed.length === 0) return;
  await sql(
    `INSERT INTO {articles} (id, created_position, status, doc)
     SELECT id, created_position, status, doc FROM jsonb_to_recordset($1::jsonb)
       AS r(id uuid, created_position numeric, status text, doc jsonb)
     ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, doc = EXCLUDED.doc`,
    [toJson(changed)],
  );
}

function byPosition(a: ProjectedEvent, b: ProjectedEvent): number {
  const [x, y] = [BigInt(a.position), BigInt(b.position)];
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * JSON for a jsonb parameter. A lone UTF-16 surrogate (JavaScript strings may hold one; jsonb refuses
 * its escape) becomes U+FFFD, as it does when node-postgres sends a string to a text column.
 */
function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'string' ? (v as string & { toWellFormed(): string }).toWellFormed() : v));
}
