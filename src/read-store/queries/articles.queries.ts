import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { articlesProjection } from '../../../projections/articles.projection';
import { Page, PageRequest, toPage } from '../../http/pagination';
import { ArticleStatus } from '../../newsroom/article/article.decider';
import { ArticleDocument, ArticleView, articleView } from '../../newsroom/article/article.view';
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
      `SELECT a.id, a.doc -> 'article' ->> 'headline' AS headline, a.status, (a.doc ->> 'revision')::int AS revision,
              a.doc ->> 'updatedAt' AS updated_at, a.created_position::text, a.doc -> 'article' -> 'topics' AS topics
       FROM {articles} a
       WHERE ($1::text IS NULL OR a.status = $1)
         AND ($2::text IS NULL OR EXISTS (SELECT 1 FROM {article_topics} t WHERE t.article_id = a.id AND t.slug = $2))
         AND ($3::text IS NULL OR strpos(lower(a.doc -> 'article' ->> 'headline'), lower($3)) > 0
                               OR strpos(lower(a.doc -> 'article' ->> 'body'), lower($3)) > 0)
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

/** `GET /articles/{id}`: the article's document from the read model, shaped as the API answers. */
export class GetArticle extends Query<Read<ArticleView>> {
  constructor(readonly articleId: string) {
    super();
  }
}

@QueryHandler(GetArticle)
export class GetArticleHandler implements IQueryHandler<GetArticle> {
  constructor(private readonly models: ReadModels) {}

  async execute({ articleId }: GetArticle): Promise<Read<ArticleView>> {
    const snapshot = await this.models.snapshot(articlesProjection);
    const [row] = await snapshot.query<{ doc: ArticleDocument }>(articlesProjection, `SELECT doc FROM {articles} WHERE id = $1`, [articleId]);
    if (!row) throw snapshot.notFound('article-not-found', `No article ${articleId}.`);
    return { value: articleView(row.doc), position: snapshot.position };
  }
}
