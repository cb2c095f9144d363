import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { articlesProjection } from '../../../projections/articles.projection';
import { Page, PageRequest, toPage } from '../../http/pagination';
import { ArticleStatus } from '../../newsroom/article/article.decider';
import { ArticleView, quoteView } from '../../newsroom/article/article.view';
import { Read, ReadModels } from '../read-models';

export interface ArticleListItem {
  id: string;
  headline: string;
  status: string;
  revision: number;
  updatedAt: string;
  topics: { slug: string; label: string }[];
}

export interface ArticleFilter {
  status?: ArticleStatus;
  /** A topic slug. */
  topic?: string;
  /** Case-insensitive substring of the headline or the body. */
  q?: string;
}

/** `GET /articles`: newest draft first (by the position of `ArticleDrafted`, which never changes). */
export class ListArticles extends Query<Read<Page<ArticleListItem>>> {
  constructor(
    readonly filter: ArticleFilter,
    readonly page: PageRequest<string>,
  ) {
    super();
  }
}

export const ARTICLES_CURSOR = 'articles';

const TOPICS_OF = `coalesce((SELECT json_agg(json_build_object('slug', t.slug, 'label', t.label) ORDER BY t.seq)
                             FROM {topics} t WHERE t.article_id = a.id), '[]'::json)`;

@QueryHandler(ListArticles)
export class ListArticlesHandler implements IQueryHandler<ListArticles> {
  constructor(private readonly models: ReadModels) {}

  async execute({ filter, page }: ListArticles): Promise<Read<Page<ArticleListItem>>> {
    const snapshot = await this.models.snapshot(articlesProjection);
    const rows = await snapshot.query<{
      id: string;
      headline: string;
      status: string;
      revision: number;
      updated_at: string;
      created_position: string;
      topics: { slug: string; label: string }[];
    }>(
      articlesProjection,
      `SELECT a.id, a.headline, a.status, a.revision, a.updated_at, a.created_position::text, ${TOPICS_OF} AS topics
       FROM {articles} a
       WHERE ($1::text IS NULL OR a.status = $1)
         AND ($2::text IS NULL OR EXISTS (SELECT 1 FROM {topics} t WHERE t.article_id = a.id AND t.slug = $2))
         AND ($3::text IS NULL OR strpos(lower(a.headline), lower($3)) > 0 OR strpos(lower(a.body), lower($3)) > 0)
         AND ($4::numeric IS NULL OR a.created_position < $4)
       ORDER BY a.created_position DESC
       LIMIT $5`,
      [filter.status ?? null, filter.topic ?? null, filter.q ?? null, page.after, page.limit + 1],
    );
    const value = toPage(
      rows,
      page,
      ARTICLES_CURSOR,
      (r) => r.created_position,
      (r) => ({
        id: r.id,
        headline: r.headline,
        status: r.status,
        revision: r.revision,
        updatedAt: r.updated_at,
        topics: r.topics.map((t) => ({ slug: t.slug, label: t.label })),
      }),
    );
    return { value, position: snapshot.position };
  }
}

/** `GET /articles/{id}`: the whole article from the read model, in one statement (one snapshot). */
export class GetArticle extends Query<Read<ArticleView>> {
  constructor(readonly articleId: string) {
    super();
  }
}

interface ArticleRow {
  id: string;
  headline: string;
  byline: string | null;
  desk: string | null;
  status: string;
  body: string;
  revision: number;
  created_at: string;
  updated_at: string;
  published_at: string | null;
  quotes: ArticleView['quotes'];
  topics: ArticleView['topics'];
  claims: ArticleView['claims'];
  corrections: ArticleView['corrections'];
}

@QueryHandler(GetArticle)
export class GetArticleHandler implements IQueryHandler<GetArticle> {
  constructor(private readonly models: ReadModels) {}

  async execute({ articleId }: GetArticle): Promise<Read<ArticleView>> {
    const snapshot = await this.models.snapshot(articlesProjection);
    const [row] = await snapshot.query<ArticleRow>(
      articlesProjection,
      `SELECT a.id, a.headline, a.byline, a.desk, a.status, a.body, a.revision, a.created_at, a.updated_at, a.published_at,
         coalesce((SELECT json_agg(json_build_object('id', q.id, 'text', q.text, 'speaker', q.speaker, 'paragraph', q.paragraph,
                                                     'status', q.status, 'inBody', q.in_body, 'source', q.source,
                                                     'attribution', q.attribution, 'method', q.method) ORDER BY q.seq)
                   FROM {quotes} q WHERE q.article_id = a.id), '[]'::json) AS quotes,
         ${TOPICS_OF} AS topics,
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
    if (!row) throw snapshot.notFound('article-not-found', `No article ${articleId}.`);
    const value: ArticleView = {
      id: row.id,
      headline: row.headline,
      byline: row.byline,
      desk: row.desk,
      status: row.status,
      body: row.body,
      revision: row.revision,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      publishedAt: row.published_at,
      quotes: row.quotes.map(quoteView),
      topics: row.topics.map((t) => ({ slug: t.slug, label: t.label })),
      claims: row.claims.map((c) => ({
        id: c.id,
        text: c.text,
        quoteId: c.quoteId,
        verdict: c.verdict,
        evidence: c.evidence,
        note: c.note,
        checkedBy: c.checkedBy ? { id: c.checkedBy.id, name: c.checkedBy.name } : null,
        checkedAt: c.checkedAt,
      })),
      corrections: row.corrections.map((k) => ({ text: k.text, issuedAt: k.issuedAt, issuedBy: { id: k.issuedBy.id, name: k.issuedBy.name } })),
    };
    return { value, position: snapshot.position };
  }
}
