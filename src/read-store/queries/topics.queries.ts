import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { articlesProjection } from '../../../projections/articles.projection';
import { Page, PageRequest, toPage } from '../../http/pagination';
import { Read, ReadModels } from '../read-models';

export interface TopicItem {
  slug: string;
  label: string;
  articleCount: number;
}

/** `GET /topics`: topics that at least one article carries now, by slug. */
export class ListTopics extends Query<Read<Page<TopicItem>>> {
  constructor(readonly page: PageRequest<string>) {
    super();
  }
}

export const TOPICS_CURSOR = 'topics';

@QueryHandler(ListTopics)
export class ListTopicsHandler implements IQueryHandler<ListTopics> {
  constructor(private readonly models: ReadModels) {}

  async execute({ page }: ListTopics): Promise<Read<Page<TopicItem>>> {
    const snapshot = await this.models.snapshot(articlesProjection);
    const rows = await snapshot.query<{ slug: string; label: string; article_count: number }>(
      articlesProjection,
      `SELECT slug, label, article_count FROM {topics}
       WHERE article_count > 0 AND ($1::text IS NULL OR slug COLLATE "C" > $1)
       ORDER BY slug COLLATE "C" LIMIT $2`,
      [page.after, page.limit + 1],
    );
    const value = toPage(
      rows,
      page,
      TOPICS_CURSOR,
      (r) => r.slug,
      (r) => ({ slug: r.slug, label: r.label, articleCount: r.article_count }),
    );
    return { value, position: snapshot.position };
  }
}
