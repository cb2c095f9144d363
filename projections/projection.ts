import type { QueryResult, QueryResultRow } from 'pg';
import type { ArticleEvent } from '../src/newsroom/article/article.decider';
import type { SourceEvent } from '../src/newsroom/source/source.decider';
import { occurredAt } from '../src/newsroom/event-provenance';

/** Every event type a projection can handle, with its data shape. */
export type NewsroomEvent = ArticleEvent | SourceEvent;
export type NewsroomEventType = NewsroomEvent['type'];
export type EventData<T extends NewsroomEventType> = Extract<NewsroomEvent, { type: T }>['data'];

/** Metadata as the command side writes it on every event (see API.md). */
export interface EventMetadata {
  actor?: { id?: string; name?: string; roles?: string[] };
  commandId?: string;
  correlationId?: string;
  causationId?: string;
  occurredAt?: string;
  reason?: string;
  schemaVersion?: number;
  [key: string]: unknown;
}

/**
 * An event as a projection sees it: type and data already through `toDomainEvent` (upcast), plus
 * where it sits in the log.
 */
export interface ProjectedEvent<D = Record<string, unknown>> {
  id: string;
  streamId: string;
  revision: number;
  /** Global ($all) position, decimal string. */
  position: string;
  type: string;
  data: D;
  metadata: EventMetadata;
  created: Date;
}

/**
 * Runs one statement inside the batch's transaction. Table names are written as placeholders,
 * `{articles}`, which the runner qualifies with the schema being written (the live build or a
 * rebuild beside it). Values only ever go in as pg parameters.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Sql = <R extends QueryResultRow = any>(text: string, params?: unknown[]) => Promise<QueryResult<R>>;

export type ProjectionHandler<D = Record<string, unknown>> = (event: ProjectedEvent<D>, sql: Sql) => Promise<void>;

export type ProjectionHandlers = { [T in NewsroomEventType]?: ProjectionHandler<EventData<T>> };

/**
 * A read model: data plus functions. `tables` and `indexes` are its DDL, with placeholder table
 * names; raising `version` means "rebuild me from the first event".
 *
 * The runner hands `apply` a batch of events (in log order, only of the `types` it applies unless
 * `catchAll`, operator-skipped ones removed) inside the batch's transaction. `apply` must leave the
 * tables exactly as applying the events one at a time would, and should cost a number of statements
 * that does not grow with the batch: that is what makes rebuilds and busy live batches fast. When it
 * throws, the runner rolls back and applies the batch one event at a time to find the event at fault.
 */
export interface Projection {
  readonly name: string;
  readonly version: number;
  /** The CREATE TABLE statements (with their keys, which `apply` may rely on), and ALTERs of those tables. */
  readonly tables: readonly string[];
  /**
   * Indexes that only serve reads, and unique ones no bulk load can break: a build filled from the
   * whole log creates them once it is full (one sort, rather than keeping them up through every
   * insert), and before its last catch-up and swap; a schema for live use, right after its tables.
   * Each is `CREATE [UNIQUE] INDEX IF NOT EXISTS <name> ON {table} …`: named, so that creating it again
   * (a build resumed after a crash) is a no-op.
   */
  readonly indexes?: readonly string[];
  /** The event types it applies; the others pass it by. */
  readonly types: ReadonlySet<string>;
  /**
   * Applies every event type, known or not (the audit trail records everything). Without it, an
   * event of a type the domain does not know, in an `article-` or `source-` stream it follows, is a
   * poison event: the projection fails on it rather than silently passing it by.
   */
  readonly catchAll: boolean;
  /**
   * The oldest version of its tables the queries can read (default: any). While a live model of an
   * older version is being rebuilt, reads of it answer 503 instead of querying tables of another shape.
   */
  readonly readableFrom?: number;
  apply(events: readonly ProjectedEvent[], sql: Sql, context?: ApplyContext): Promise<void>;
}

/**
 * What the runner tells `apply` besides the statement function. `bulk` is true only while loading a
 * fresh build schema from the log (a rebuild): no reader sees those tables, every event reaches
 * them exactly once (the checkpoint commits with the rows), and their secondary indexes come after
 * the load. Then `copy` may load rows with COPY instead of INSERT: much cheaper per row, but it
 * fails on a duplicate key where an INSERT … ON CONFLICT would not. A projection may ignore both.
 */
export interface ApplyContext {
  readonly bulk: boolean;
  /**
   * Loads `rows` (values in `columns`' order) into the table written as its placeholder name
   * (`entries` for `{entries}`) with `COPY … FROM STDIN`, in the batch's transaction. Values:
   * null/undefined (NULL), strings, numbers, bigints, booleans, Dates (ISO 8601); anything else
   * (objects, arrays) goes as its JSON text.
   */
  copy(table: string, columns: readonly string[], rows: readonly (readonly unknown[])[]): Promise<void>;
  /** Bulk only (else null): what the projection may keep in memory between the batches of the build. */
  readonly held: Held | null;
}

/**
 * What a projection keeps in memory between the batches of a build instead of writing it at once: a
 * document rewritten by every page that touches it costs far more than one written when its page run
 * is over. Keyed as the projection likes; the runner never looks inside.
 *
 * The rules that keep it exactly-once: the runner moves the build's checkpoint past a batch only when
 * nothing is held after it (what is held is not in the tables yet: after a crash the build resumes
 * from its checkpoint and applies those events again); `apply` changes `documents` only once it
 * cannot fail any more (a failed `apply` leaves it as it was); and a projection that holds must skip
 * events at or below what it holds, as it skips re-deliveries of what it stored. The runner drops the
 * whole of it whenever a batch's transaction does not commit.
 */
export interface Held {
  /**
   * Write everything held with this batch: a checkpoint is due (the end of the log, a page run, a
   * failure). To have what is held written after a batch failed, the runner calls `apply` with no events.
   */
  readonly flush: boolean;
  readonly documents: Map<string, unknown>;
}

/**
 * A projection from per-event handlers, applied one statement set per event: the simplest way to
 * write one (tests wrap projections this way); the newsroom's own read models are set-based.
 */
export function perEventProjection(definition: {
  name: string;
  version: number;
  tables: readonly string[];
  indexes?: readonly string[];
  handlers: ProjectionHandlers;
  catchAll?: ProjectionHandler;
}): Projection & { readonly handlers: ProjectionHandlers } {
  const { handlers, catchAll } = definition;
  return {
    name: definition.name,
    version: definition.version,
    tables: definition.tables,
    indexes: definition.indexes ?? [],
    handlers,
    types: new Set(Object.keys(handlers)),
    catchAll: catchAll !== undefined,
    async apply(events, sql) {
      for (const event of events) {
        const handler = (handlers[event.type as NewsroomEventType] as ProjectionHandler | undefined) ?? catchAll;
        if (handler) await handler(event, sql);
      }
    },
  };
}

const PLACEHOLDER = /\{([a-z_][a-z0-9_]*)\}/g;
const CREATED_TABLE = /CREATE\s+TABLE\s+\{([a-z_][a-z0-9_]*)\}/gi;

/** The placeholder names a projection's DDL creates. */
export function tableNames(projection: Pick<Projection, 'tables'>): string[] {
  const names: string[] = [];
  for (const ddl of projection.tables) for (const match of ddl.matchAll(CREATED_TABLE)) names.push(match[1]);
  return names;
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * Replaces `{table}` placeholders with `"schema"."table"`. An unknown placeholder is a programming
 * error and throws, so a typo cannot silently hit another table.
 */
export function qualify(text: string, schema: string, tables: readonly string[]): string {
  return text.replace(PLACEHOLDER, (whole, name: string) => {
    if (!tables.includes(name)) throw new Error(`unknown table placeholder ${whole}`);
    return `${quoteIdent(schema)}.${quoteIdent(name)}`;
  });
}

/** An `Sql` bound to one schema on one client (the batch's transaction). */
export function boundSql(
  client: { query: (text: string, params?: unknown[]) => Promise<QueryResult> },
  schema: string,
  tables: readonly string[],
): Sql {
  const cache = new Map<string, string>();
  return ((text: string, params?: unknown[]) => {
    let qualified = cache.get(text);
    if (qualified === undefined) {
      qualified = qualify(text, schema, tables);
      cache.set(text, qualified);
    }
    return client.query(qualified, params);
  }) as Sql;
}

// ───────────────────────────────────────────────────── helpers for handlers ──

/** The aggregate id in `article-<uuid>` / `source-<uuid>`. */
export function streamEntityId(event: Pick<ProjectedEvent, 'streamId'>): string {
  const dash = event.streamId.indexOf('-');
  return dash === -1 ? event.streamId : event.streamId.slice(dash + 1);
}

export { actorOf, occurredAt } from '../src/newsroom/event-provenance';

/** The same instant as a timestamp for range filters; the store's time when occurredAt does not parse. */
export function occurredAtTimestamp(event: Pick<ProjectedEvent, 'metadata' | 'created'>): Date {
  const parsed = new Date(occurredAt(event));
  return Number.isNaN(parsed.getTime()) ? event.created : parsed;
}

/**
 * For each event type, the fields of its data a projection stores, and what they must hold: `string` a
 * string (that PostgreSQL can store: no NUL character), `string?` that or null or nothing, `number` a number.
 */
export type RequiredFields = Readonly<Partial<Record<NewsroomEventType, Readonly<Record<string, 'string' | 'string?' | 'number'>>>>>;

function holds(value: unknown, kind: 'string' | 'string?' | 'number'): boolean {
  if (kind === 'number') return typeof value === 'number';
  if (value === undefined || value === null) return kind === 'string?';
  return typeof value === 'string' && !value.includes('\u0000');
}

/**
 * Throws on the first event whose data lacks a field its type requires, or holds what the field cannot.
 * A projection that folds a batch in memory calls it on every event it folds, so that a malformed event
 * fails its batch, and then alone, whatever comes after it: it is the projection's poison event however
 * the log is cut into batches (a later event in the same batch cannot mend it before the write).
 */
export function refuseMalformed(events: readonly ProjectedEvent[], required: RequiredFields): void {
  for (const event of events) {
    const fields = required[event.type as NewsroomEventType];
    if (!fields) continue;
    for (const [field, kind] of Object.entries(fields)) {
      if (!holds((event.data as Record<string, unknown>)?.[field], kind)) {
        throw new Error(`${event.type} at ${event.position} has no ${kind.replace('?', '')} ${field} PostgreSQL can store`);
      }
    }
  }
}
