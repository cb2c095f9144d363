import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { articlesProjection } from '../../../projections/articles.projection';
import { Page, PageRequest, toPage } from '../../http/pagination';
import { ClaimState, Verdict } from '../../newsroom/article/article.decider';
import { ClaimView, claimView } from '../../newsroom/article/article.view';
import { Who } from '../../newsroom/event-provenance';
import { Read, ReadModels } from '../read-models';

/** A verdict to filter by; `none` selects claims nobody has checked yet. */
export type VerdictFilter = Verdict | 'none';

/** One claim as the API shows it, the same in every list (the article view's shape). */
export type ClaimItem = ClaimView;

export interface ClaimAcrossArticles extends ClaimItem {
  articleId: string;
  headline: string;
}

interface ClaimRow {
  article_id: string;
  headline: string;
  seq: string;
  claim: ClaimState;
  checked: { by: Who; at: string } | null;
}

/** A claim's row in `article_claims` (`c`) with what its article's document (`a`) holds of it. */
const COLUMNS = `c.article_id, a.doc -> 'article' ->> 'headline' AS headline, c.seq::text,
                 a.doc -> 'article' -> 'claims' -> c.claim_id AS claim, a.doc -> 'checked' -> c.claim_id AS checked`;

const claimOf = (row: ClaimRow): ClaimItem => claimView(row.claim, row.checked ?? undefined);

const verdictCondition = (p: string) => `(${p}::text IS NULL OR (${p} = 'none' AND c.verdict IS NULL) OR c.verdict = ${p})`;

/** `GET /articles/{id}/claims`: in the order they were recorded. */
export class ListArticleClaims extends Query<Read<Page<ClaimItem>>> {
  constructor(
    readonly articleId: string,
    readonly verdict: VerdictFilter | undefined,
    readonly page: PageRequest<string>,
  ) {
    super();
  }
}

export const ARTICLE_CLAIMS_CURSOR = 'article-claims';

@QueryHandler(ListArticleClaims)
export class ListArticleClaimsHandler implements IQueryHandler<ListArticleClaims> {
  constructor(private readonly models: ReadModels) {}

  async execute({ articleId, verdict, page }: ListArticleClaims): Promise<Read<Page<ClaimItem>>> {
    const snapshot = await this.models.snapshot(articlesProjection);
    const found = await snapshot.query(articlesProjection, 'SELECT 1 FROM {articles} WHERE id = $1', [articleId]);
    if (found.length === 0) throw snapshot.notFound('article-not-found', `No article ${articleId}.`);
    const rows = await snapshot.query<ClaimRow>(
      articlesProjection,
      `SELECT ${COLUMNS} FROM {article_claims} c JOIN {articles} a ON a.id = c.article_id
       WHERE c.article_id = $1 AND ${verdictCondition('$2')} AND ($3::numeric IS NULL OR c.seq > $3)
       ORDER BY c.seq LIMIT $4`,
      [articleId, verdict ?? null, page.after, page.limit + 1],
    );
    return { value: toPage(rows, page, ARTICLE_CLAIMS_CURSOR, (r) => r.seq, claimOf), position: snapshot.position };
  }
}

/** `GET /claims`: across articles, newest first, each with its article's id and current headline. */
export class ListClaims extends Query<Read<Page<ClaimAcrossArticles>>> {
  constructor(
    readonly filter: { verdict?: VerdictFilter; topic?: string },
    readonly page: PageRequest<string>,
  ) {
    super();
  }
}

export const CLAIMS_CURSOR = 'claims';

@QueryHandler(ListClaims)
export class ListClaimsHandler implements IQueryHandler<ListClaims> {
  constructor(private readonly models: ReadModels) {}

  async execute({ filter, page }: ListClaims): Promise<Read<Page<ClaimAcrossArticles>>> {
    const snapshot = await this.models.snapshot(articlesProjection);
    const rows = await snapshot.query<ClaimRow>(
      articlesProjection,
      `SELECT ${COLUMNS} FROM {article_claims} c JOIN {articles} a ON a.id = c.article_id
       WHERE ${verdictCondition('$1')}
         AND ($2::text IS NULL OR EXISTS (SELECT 1 FROM {article_topics} t WHERE t.article_id = c.article_id AND t.slug = $2))
         AND ($3::numeric IS NULL OR c.seq < $3)
       ORDER BY c.seq DESC LIMIT $4`,
      [filter.verdict ?? null, filter.topic ?? null, page.after, page.limit + 1],
    );
    const value = toPage(
      rows,
      page,
      CLAIMS_CURSOR,
      (r) => r.seq,
      (r): ClaimAcrossArticles => {
        const { id, ...rest } = claimOf(r);
        return { id, articleId: r.article_id, headline: r.headline, ...rest };
      },
    );
    return { value, position: snapshot.position };
  }
}
