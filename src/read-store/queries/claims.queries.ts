import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { claimsProjection } from '../../../projections/claims.projection';
import { Page, PageRequest, toPage } from '../../http/pagination';
import { Evidence, Verdict } from '../../newsroom/article/article.decider';
import { ClaimView } from '../../newsroom/article/article.view';
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
  id: string;
  seq: string;
  text: string;
  quote_id: string | null;
  verdict: string | null;
  evidence: Evidence[];
  note: string | null;
  checked_by_id: string | null;
  checked_by_name: string | null;
  checked_at: string | null;
}

const COLUMNS = `c.article_id, a.headline, c.id, c.seq::text, c.text, c.quote_id, c.verdict, c.evidence, c.note,
                 c.checked_by_id, c.checked_by_name, c.checked_at`;

function claimOf(row: ClaimRow): ClaimItem {
  return {
    id: row.id,
    text: row.text,
    quoteId: row.quote_id,
    verdict: row.verdict,
    evidence: row.evidence,
    note: row.note,
    checkedBy: row.checked_by_id === null ? null : { id: row.checked_by_id, name: row.checked_by_name ?? '' },
    checkedAt: row.checked_at,
  };
}

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
    const snapshot = await this.models.snapshot(claimsProjection);
    const found = await snapshot.query(claimsProjection, 'SELECT 1 FROM {articles} WHERE id = $1', [articleId]);
    if (found.length === 0) throw snapshot.notFound('article-not-found', `No article ${articleId}.`);
    const rows = await snapshot.query<ClaimRow>(
      claimsProjection,
      `SELECT ${COLUMNS} FROM {claims} c JOIN {articles} a ON a.id = c.article_id
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
    const snapshot = await this.models.snapshot(claimsProjection);
    const rows = await snapshot.query<ClaimRow>(
      claimsProjection,
      `SELECT ${COLUMNS} FROM {claims} c JOIN {articles} a ON a.id = c.article_id
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
