import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { auditProjection } from '../../../projections/audit.projection';
import { Page, PageRequest, toPage } from '../../http/pagination';
import { articleStream } from '../../newsroom/article/article.decider';
import { Read, ReadModels } from '../read-models';

/** One event as `GET /articles/{id}/history` shows it. */
export interface HistoryEntry {
  revision: number;
  position: string;
  type: string;
  occurredAt: string;
  actor: { id: string | null; name: string | null };
  reason: string | null;
  data: Record<string, unknown>;
}

/** `GET /audit` entries: history entries plus the stream. */
export interface AuditEntry extends HistoryEntry {
  streamId: string;
}

interface EntryRow {
  stream_id: string;
  revision: number;
  position: string;
  type: string;
  occurred_at: string;
  actor_id: string | null;
  actor_name: string | null;
  reason: string | null;
  data: Record<string, unknown>;
}

/**
 * Qualified by the alias: ORDER BY a bare name means the output column first, and `position::text`
 * would then sort as text (a 9-digit position after a 10-digit one) while cursors compare numbers.
 */
const COLUMNS = 'e.stream_id, e.revision, e.position::text AS position, e.type, e.occurred_at, e.actor_id, e.actor_name, e.reason, e.data';

function historyEntry(row: EntryRow): HistoryEntry {
  return {
    revision: row.revision,
    position: row.position,
    type: row.type,
    occurredAt: row.occurred_at,
    actor: { id: row.actor_id, name: row.actor_name },
    reason: row.reason,
    data: row.data,
  };
}

/** `GET /articles/{id}/history`: every event of the article, oldest first. */
export class GetArticleHistory extends Query<Read<Page<HistoryEntry>>> {
  constructor(
    readonly articleId: string,
    readonly page: PageRequest<number>,
  ) {
    super();
  }
}

export const HISTORY_CURSOR = 'history';

@QueryHandler(GetArticleHistory)
export class GetArticleHistoryHandler implements IQueryHandler<GetArticleHistory> {
  constructor(private readonly models: ReadModels) {}

  async execute({ articleId, page }: GetArticleHistory): Promise<Read<Page<HistoryEntry>>> {
    const snapshot = await this.models.snapshot(auditProjection);
    const stream = articleStream(articleId);
    const rows = await snapshot.query<EntryRow>(
      auditProjection,
      `SELECT ${COLUMNS} FROM {entries} e WHERE e.stream_id = $1 AND e.revision > $2 ORDER BY e.revision LIMIT $3`,
      [stream, page.after ?? -1, page.limit + 1],
    );
    if (rows.length === 0 && page.after === null) throw snapshot.notFound('article-not-found', `No article ${articleId}.`);
    return { value: toPage(rows, page, HISTORY_CURSOR, (r) => r.revision, historyEntry), position: snapshot.position };
  }
}

export interface AuditFilter {
  actor?: string;
  type?: string;
  /** Inclusive. */
  since?: Date;
  /** Exclusive. */
  until?: Date;
}

/** `GET /audit`: the newsroom-wide trail, newest first. */
export class ListAudit extends Query<Read<Page<AuditEntry>>> {
  constructor(
    readonly filter: AuditFilter,
    readonly page: PageRequest<string>,
  ) {
    super();
  }
}

export const AUDIT_CURSOR = 'audit';

@QueryHandler(ListAudit)
export class ListAuditHandler implements IQueryHandler<ListAudit> {
  constructor(private readonly models: ReadModels) {}

  async execute({ filter, page }: ListAudit): Promise<Read<Page<AuditEntry>>> {
    const snapshot = await this.models.snapshot(auditProjection);
    const rows = await snapshot.query<EntryRow>(
      auditProjection,
      `SELECT ${COLUMNS} FROM {entries} e
       WHERE ($1::text IS NULL OR e.actor_id = $1)
         AND ($2::text IS NULL OR e.type = $2)
         AND ($3::timestamptz IS NULL OR e.occurred_at_ts >= $3)
         AND ($4::timestamptz IS NULL OR e.occurred_at_ts < $4)
         AND ($5::numeric IS NULL OR e.position < $5)
       ORDER BY e.position DESC LIMIT $6`,
      [filter.actor ?? null, filter.type ?? null, filter.since ?? null, filter.until ?? null, page.after, page.limit + 1],
    );
    const value = toPage(
      rows,
      page,
      AUDIT_CURSOR,
      (r) => r.position,
      (r): AuditEntry => ({ streamId: r.stream_id, ...historyEntry(r) }),
    );
    return { value, position: snapshot.position };
  }
}
