import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { articlesProjection } from '../../../projections/articles.projection';
import { sourcesProjection } from '../../../projections/sources.projection';
import { QuoteState } from '../../newsroom/article/article.decider';
import { Page, PageRequest, toPage } from '../../http/pagination';
import { Read, ReadModels, ReadSnapshot } from '../read-models';

export interface SourceItem {
  id: string;
  name: string;
  kind: string;
  title: string | null;
  organization: string | null;
  quoteCount: number;
}

export interface SourceQuoteItem {
  articleId: string;
  headline: string;
  quoteId: string;
  text: string;
  attribution: string | null;
  method: string | null;
  status: string;
}

interface SourceRow {
  id: string;
  name: string;
  sort_name: string;
  kind: string;
  title: string | null;
  organization: string | null;
  revision: number;
}

const SOURCE_COLUMNS = `s.id, s.name, lower(s.name) AS sort_name, s.kind, s.title, s.organization, s.revision`;

/**
 * The sources with their quote counts: the quotes are the articles read model's (`article_quotes`),
 * counted in the same snapshot.
 */
async function withQuoteCounts(snapshot: ReadSnapshot, rows: SourceRow[]): Promise<(SourceRow & { quoteCount: number })[]> {
  if (rows.length === 0) return [];
  const counts = await snapshot.query<{ source_id: string; n: number }>(
    articlesProjection,
    `SELECT source_id, count(*)::int AS n FROM {article_quotes} WHERE source_id = ANY($1::uuid[]) GROUP BY source_id`,
    [rows.map((r) => r.id)],
  );
  const byId = new Map(counts.map((c) => [c.source_id, c.n]));
  return rows.map((row) => ({ ...row, quoteCount: byId.get(row.id) ?? 0 }));
}

function sourceOf(row: SourceRow & { quoteCount: number }): SourceItem {
  return { id: row.id, name: row.name, kind: row.kind, title: row.title, organization: row.organization, quoteCount: row.quoteCount };
}

/** `GET /sources`: by name (case-insensitive), `q` matching name, title or organization. */
export class ListSources extends Query<Read<Page<SourceItem>>> {
  constructor(
    readonly q: string | undefined,
    readonly page: PageRequest<[string, string]>,
  ) {
    super();
  }
}

export const SOURCES_CURSOR = 'sources';

@QueryHandler(ListSources)
export class ListSourcesHandler implements IQueryHandler<ListSources> {
  constructor(private readonly models: ReadModels) {}

  async execute({ q, page }: ListSources): Promise<Read<Page<SourceItem>>> {
    const snapshot = await this.models.snapshot(sourcesProjection, articlesProjection);
    const rows = await snapshot.query<SourceRow>(
      sourcesProjection,
      `SELECT ${SOURCE_COLUMNS} FROM {sources} s
       WHERE ($1::text IS NULL OR strpos(lower(s.name), lower($1)) > 0 OR strpos(lower(coalesce(s.title, '')), lower($1)) > 0
              OR strpos(lower(coalesce(s.organization, '')), lower($1)) > 0)
         AND ($2::text IS NULL OR (lower(s.name), s.id) > ($2, $3::uuid))
       ORDER BY lower(s.name), s.id
       LIMIT $4`,
      [q ?? null, page.after?.[0] ?? null, page.after?.[1] ?? null, page.limit + 1],
    );
    const value = toPage(await withQuoteCounts(snapshot, rows), page, SOURCES_CURSOR, (r): [string, string] => [r.sort_name, r.id], sourceOf);
    return { value, position: snapshot.position };
  }
}

/** `GET /sources/{id}`, with the source stream's revision for `ETag`. */
export class GetSource extends Query<Read<{ source: SourceItem; revision: number }>> {
  constructor(readonly sourceId: string) {
    super();
  }
}

@QueryHandler(GetSource)
export class GetSourceHandler implements IQueryHandler<GetSource> {
  constructor(private readonly models: ReadModels) {}

  async execute({ sourceId }: GetSource): Promise<Read<{ source: SourceItem; revision: number }>> {
    const snapshot = await this.models.snapshot(sourcesProjection, articlesProjection);
    const found = await snapshot.query<SourceRow>(sourcesProjection, `SELECT ${SOURCE_COLUMNS} FROM {sources} s WHERE s.id = $1`, [sourceId]);
    if (found.length === 0) throw snapshot.notFound('source-not-found', `No source ${sourceId}.`);
    const [row] = await withQuoteCounts(snapshot, found);
    return { value: { source: sourceOf(row), revision: row.revision }, position: snapshot.position };
  }
}

/** `GET /sources/{id}/quotes`: every quote attributed to the source, latest attribution first. */
export class ListSourceQuotes extends Query<Read<Page<SourceQuoteItem>>> {
  constructor(
    readonly sourceId: string,
    readonly page: PageRequest<string>,
  ) {
    super();
  }
}

export const SOURCE_QUOTES_CURSOR = 'source-quotes';

@QueryHandler(ListSourceQuotes)
export class ListSourceQuotesHandler implements IQueryHandler<ListSourceQuotes> {
  constructor(private readonly models: ReadModels) {}

  async execute({ sourceId, page }: ListSourceQuotes): Promise<Read<Page<SourceQuoteItem>>> {
    const snapshot = await this.models.snapshot(sourcesProjection, articlesProjection);
    const found = await snapshot.query(sourcesProjection, 'SELECT 1 FROM {sources} WHERE id = $1', [sourceId]);
    if (found.length === 0) throw snapshot.notFound('source-not-found', `No source ${sourceId}.`);
    const rows = await snapshot.query<{ article_id: string; headline: string; quote: QuoteState; attributed_at: string }>(
      articlesProjection,
      `SELECT q.article_id, a.doc -> 'article' ->> 'headline' AS headline, a.doc -> 'article' -> 'quotes' -> q.quote_id AS quote,
              q.attributed_at::text
       FROM {article_quotes} q JOIN {articles} a ON a.id = q.article_id
       WHERE q.source_id = $1 AND ($2::numeric IS NULL OR q.attributed_at < $2)
       ORDER BY q.attributed_at DESC LIMIT $3`,
      [sourceId, page.after, page.limit + 1],
    );
    const value = toPage(
      rows,
      page,
      SOURCE_QUOTES_CURSOR,
      (r) => r.attributed_at,
      (r): SourceQuoteItem => ({
        articleId: r.article_id,
        headline: r.headline,
        quoteId: r.quote.id,
        text: r.quote.text,
        attribution: r.quote.attribution ?? null,
        method: r.quote.method ?? null,
        status: r.quote.status,
      }),
    );
    return { value, position: snapshot.position };
  }
}
