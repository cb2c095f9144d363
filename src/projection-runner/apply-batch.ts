import { Pool, PoolClient, QueryResult, QueryResultRow } from 'pg';
import { Held, ProjectedEvent, Projection, boundSql, tableNames } from '../../projections/projection';
import { comparePositions } from '../event-store/event-store';
import { isConnectionError } from '../event-store/postgres-errors';
import { ARTICLE_EVENT_TYPES } from '../newsroom/article/article.decider';
import { SOURCE_EVENT_TYPES } from '../newsroom/source/source.decider';
import { applyContext } from './copy-rows';
import { PROJECTIONS_CHANNEL, ProjectionFailure, StatusRow, onClient } from './projection-status';

export type Phase = 'live' | 'rebuild';

/** A projection's handler failed on this event; its failure was recorded and the event will be retried. */
export class ProjectionHandlerError extends Error {
  constructor(
    readonly projection: string,
    readonly event: ProjectedEvent,
    cause: unknown,
  ) {
    super(`projection ${projection} failed on ${event.type} at ${event.position}: ${messageOf(cause)}`, { cause });
    this.name = 'ProjectionHandlerError';
  }
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** What the status row records of a failed event (`error` live, `build_error` for a rebuild). */
export function failureOf(phase: Phase, event: ProjectedEvent, error: unknown): ProjectionFailure {
  return { phase, position: event.position, eventId: event.id, eventType: event.type, streamId: event.streamId, message: messageOf(error), at: new Date().toISOString() };
}

/** Where a projection's tables are being written: live, or a fresh build (`bulk`, with what it may hold in memory). */
export interface Target {
  projection: Projection;
  schema: string;
  bulk: boolean;
  held?: Held | null;
}

/** The event at `index` of a batch could not be applied: the events before it were, nothing of it was. */
export interface PoisonEvent {
  index: number;
  error: unknown;
}

const CATEGORIES: { prefix: string; types: readonly string[] }[] = [
  { prefix: 'article-', types: ARTICLE_EVENT_TYPES },
  { prefix: 'source-', types: SOURCE_EVENT_TYPES },
];

/**
 * For a projection that follows a category of streams (it handles some of its event types), an
 * event of a type the domain does not know in such a stream is a poison: it cannot be applied, and
 * passing it by silently could leave the read model wrong. Other streams are none of its business.
 */
function isUnknownType(projection: Projection, event: ProjectedEvent): boolean {
  if (projection.catchAll) return false;
  let followed = FOLLOWED.get(projection);
  if (!followed) FOLLOWED.set(projection, (followed = CATEGORIES.filter((c) => c.types.some((t) => projection.types.has(t)))));
  return followed.some((c) => event.streamId.startsWith(c.prefix) && !c.types.includes(event.type));
}
const FOLLOWED = new WeakMap<Projection, typeof CATEGORIES>();

/**
 * The events `apply` gets (skipped positions and types the projection does not apply left out),
 * cut short before the first event of an unknown type (see isUnknownType), reported as `poison`.
 */
function selectEvents(projection: Projection, events: readonly ProjectedEvent[], skipped: ReadonlySet<string>): { selected: ProjectedEvent[]; poison: PoisonEvent | null } {
  const selected: ProjectedEvent[] = [];
  for (let i = 0; i < events.length; i++) {
    const event = events[i];
    if (skipped.has(event.position)) continue;
    if (projection.catchAll || projection.types.has(event.type)) selected.push(event);
    else if (isUnknownType(projection, event)) return { selected, poison: { index: i, error: new Error(`unknown event type ${event.type} in stream ${event.streamId}`) } };
  }
  return { selected, poison: null };
}

function applyOnce(client: PoolClient, target: Target, events: readonly ProjectedEvent[]): Promise<void> {
  const tables = tableNames(target.projection);
  return target.projection.apply(events, boundSql(client, target.schema, tables), applyContext(client, target.schema, tables, target.bulk, target.held ?? null));
}

/** Some projection failed in a batch applied without savepoints: the transaction is to be rolled back. */
class BatchFailed extends Error {}

/** Applies `events` in one `apply`, without a savepoint: any failure throws (BatchFailed, or the connection's error). */
async function applyDirectly(client: PoolClient, target: Target, events: readonly ProjectedEvent[], skipped: ReadonlySet<string>): Promise<Isolated> {
  const { selected, poison } = selectEvents(target.projection, events, skipped);
  if (poison) throw new BatchFailed(messageOf(poison.error));
  const done = { poison: null, appliedOneAtATime: null };
  if (selected.length === 0) return done;
  try {
    await applyOnce(client, target, selected);
    return done;
  } catch (error) {
    throw isConnectionError(error) ? error : new BatchFailed(messageOf(error));
  }
}

/**
 * What applying a batch behind a savepoint came to: the poison event, if any (the events before it
 * stay applied), and whether the batch failed as a whole where its events one at a time did not.
 */
export interface Isolated {
  poison: PoisonEvent | null;
  /**
   * `apply` threw on the whole batch, yet every event of it applied one at a time: the result stands
   * (it is what one at a time gives), but a set-based `apply` got some combination wrong. Worth a warning.
   */
  appliedOneAtATime: number | null;
}

/** The warning for a batch that failed as a whole but applied one event at a time (see Isolated). */
export function oneAtATimeWarning(projection: string, events: number): string {
  return `projection ${projection}: a batch of ${events} events failed as a whole but applied one event at a time`;
}

/**
 * Applies `events` behind a savepoint, leaving the caller's transaction usable whatever happens:
 * when `apply` throws, it is rolled back to the savepoint and the event at fault is looked for
 * (findPoisonEvent).
 */
export async function applyIsolated(client: PoolClient, target: Target, events: readonly ProjectedEvent[], skipped: ReadonlySet<string>): Promise<Isolated> {
  const { selected, poison } = selectEvents(target.projection, events, skipped);
  if (selected.length === 0) return { poison, appliedOneAtATime: null };
  await client.query('SAVEPOINT batch');
  try {
    await applyOnce(client, target, selected);
    await client.query('RELEASE SAVEPOINT batch');
    return { poison, appliedOneAtATime: null };
  } catch (error) {
    if (isConnectionError(error)) throw error;
    await client.query('ROLLBACK TO SAVEPOINT batch');
  }
  const found = await findPoisonEvent(client, target, selected);
  if (found) return { poison: { index: events.indexOf(selected[found.index]), error: found.error }, appliedOneAtATime: null };
  return { poison, appliedOneAtATime: selected.length };
}

/**
 * Applies `events` one at a time, each behind a savepoint, up to the first that fails: that one is
 * answered (nothing of it applied, the ones before it applied). Null when all of them apply: a
 * set-based `apply` got some combination wrong that one at a time does not, and the result stands.
 */
export async function findPoisonEvent(client: PoolClient, target: Target, events: readonly ProjectedEvent[]): Promise<PoisonEvent | null> {
  for (let index = 0; index < events.length; index++) {
    await client.query('SAVEPOINT event');
    try {
      await applyOnce(client, target, [events[index]]);
      await client.query('RELEASE SAVEPOINT event');
    } catch (error) {
      if (isConnectionError(error)) throw error;
      await client.query('ROLLBACK TO SAVEPOINT event');
      return { index, error };
    }
  }
  return null;
}

/** A projection in a batch: rebuilds name the build schema they feed. */
export interface BatchMember {
  projection: Projection;
  /** Rebuild: the build schema fed; the batch is stale for the member once the status row names another. */
  buildSchema: string | null;
  /**
   * Rebuild: what the projection holds in memory between batches (see Held), whether this batch is to
   * write it all, and the last event the memory has applied (before this batch). The checkpoint moves
   * past the batch only when nothing is held after it.
   */
  held?: { documents: Map<string, unknown>; flush: boolean; through: string | null } | null;
}

/** What a batch did for a member that is still current. */
export interface Checkpoint {
  name: string;
  /** Its checkpoint after the batch (null: none yet). */
  position: string | null;
  /** The events of the batch it applied (those after its checkpoint, up to any failure). */
  applied: ProjectedEvent[];
  /** Rebuild: the head read when the build started. */
  target: string | null;
}

export interface BatchResult {
  checkpoints: Checkpoint[];
  /** Members that failed on an event (recorded in the same transaction); they also have a checkpoint. */
  failures: ProjectionHandlerError[];
  /** Members the status row no longer matches (another version, another build): nothing applied. */
  stale: string[];
  /** Members whose events failed as a whole but applied one at a time (see Isolated), with how many. */
  appliedOneAtATime: { name: string; events: number }[];
}

/**
 * Applies a batch to `members` in ONE transaction and answers what it did; nothing else changes.
 * The members' status rows are locked (in name order, so batches never deadlock) and each member
 * gets the events after its own checkpoint (which is what makes every event apply exactly once,
 * whoever reads it); all checkpoints move in one statement. First without savepoints; when a
 * member fails, everything is rolled back and applied again with each member behind a savepoint
 * (applyIsolated), so that a failing member keeps the events before the one at fault and the
 * others go on.
 *
 * It commits with `synchronous_commit = off`: read models are derived data, rows and checkpoint
 * commit together, and a PostgreSQL crash can only lose the last few batches whole, which are
 * then applied again. The event log's own appends stay synchronous.
 */
export async function applyBatch(pool: Pool, phase: Phase, members: readonly BatchMember[], events: readonly ProjectedEvent[]): Promise<BatchResult> {
  try {
    return await batchTransaction(pool, phase, members, events, applyDirectly);
  } catch (error) {
    if (!(error instanceof BatchFailed)) throw error;
    return await batchTransaction(pool, phase, members, events, applyIsolated);
  }
}

type ApplyStep = (client: PoolClient, target: Target, events: readonly ProjectedEvent[], skipped: ReadonlySet<string>) => Promise<Isolated>;

async function batchTransaction(pool: Pool, phase: Phase, members: readonly BatchMember[], events: readonly ProjectedEvent[], step: ApplyStep): Promise<BatchResult> {
  const result: BatchResult = { checkpoints: [], failures: [], stale: [], appliedOneAtATime: [] };
  return onClient(pool, async (client) => {
    // Statements without parameters go together as one simple query (a round trip saved on a path
    // taken for every batch); every value in them is escaped as a literal.
    const names = members.map((m) => client.escapeLiteral(m.projection.name)).join(', ');
    const rows = last<StatusRow & { skipped: string[] }>(
      await client.query(
        `BEGIN; SET LOCAL synchronous_commit = off;
         SELECT s.*, ARRAY(SELECT k.position::text FROM projection_skips k WHERE k.name = s.name) AS skipped
         FROM projection_status s WHERE s.name IN (${names}) ORDER BY s.name FOR UPDATE OF s`,
      ),
    );
    const byName = new Map(rows.map((r) => [r.name, r]));
    const updates: { name: string; position: string | null; done: number; error: ProjectionFailure | null }[] = [];
    for (const member of [...members].sort((a, b) => (a.projection.name < b.projection.name ? -1 : 1))) {
      const { name } = member.projection;
      const row = byName.get(name);
      if (!row || isStale(phase, row, member)) {
        result.stale.push(name);
        continue;
      }
      const schema = phase === 'live' ? row.schema_name : row.build_schema!;
      const from = phase === 'live' ? row.position : row.build_position;
      const fresh = eventsAfter(events, from);
      let applied = fresh;
      /** Where the checkpoint moves: the last event applied, unless something is held in memory after the batch. */
      let position = from;
      if (fresh.length > 0) {
        const bulk = phase === 'rebuild';
        // Behind savepoints (a batch that failed), everything held is written: the events before the one at fault are kept.
        const held = bulk && member.held ? { documents: member.held.documents, flush: member.held.flush || step === applyIsolated } : null;
        const { poison, appliedOneAtATime } = await step(client, { projection: member.projection, schema, bulk, held }, fresh, new Set(row.skipped));
        if (appliedOneAtATime !== null) result.appliedOneAtATime.push({ name, events: appliedOneAtATime });
        let error: ProjectionFailure | null = null;
        if (poison) {
          const failed = fresh[poison.index];
          applied = fresh.slice(0, poison.index);
          result.failures.push(new ProjectionHandlerError(name, failed, poison.error));
          error = failureOf(phase, failed, poison.error);
          // What earlier batches left held is written with the failure: every event before the one at fault is kept.
          if (held && held.documents.size > 0) await applyOnce(client, { projection: member.projection, schema, bulk, held }, []);
        }
        if (!held || held.documents.size === 0) position = applied.at(-1)?.position ?? member.held?.through ?? from;
        updates.push({ name, position: position === from ? null : position, done: applied.length, error });
      }
      result.checkpoints.push({ name, position, applied, target: phase === 'rebuild' ? row.build_target : null });
    }
    const advance = updates.length === 0 ? '' : (phase === 'live' ? ADVANCE_LIVE : ADVANCE_BUILD).replace('$1', () => client.escapeLiteral(JSON.stringify(updates)));
    await client.query(`${advance}${advance ? ';' : ''} COMMIT`);
    return result;
  });
}

/** The events of a batch (in log order) after `from` (null: all of them). */
function eventsAfter(events: readonly ProjectedEvent[], from: string | null): ProjectedEvent[] {
  if (from === null) return [...events];
  let low = 0;
  let high = events.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (comparePositions(events[middle].position, from) > 0) high = middle;
    else low = middle + 1;
  }
  return events.slice(low);
}

function isStale(phase: Phase, row: StatusRow, member: BatchMember): boolean {
  if (phase === 'live') return row.version !== member.projection.version;
  return row.build_schema === null || row.build_schema !== member.buildSchema;
}

/** Moves the live checkpoints (and records or clears failures) in one statement, and wakes read-your-writes waiters. */
const ADVANCE_LIVE = `
  WITH v AS (SELECT * FROM json_to_recordset($1::json) AS v(name text, position numeric, done bigint, error jsonb)),
  u AS (UPDATE projection_status s SET position = coalesce(v.position, s.position), error = v.error, updated_at = now()
        FROM v WHERE s.name = v.name RETURNING s.name)
  SELECT pg_notify('${PROJECTIONS_CHANNEL}', 'progress:' || name) FROM u`;

/** The same for builds: their own checkpoint, progress count and failure. */
const ADVANCE_BUILD = `
  WITH v AS (SELECT * FROM json_to_recordset($1::json) AS v(name text, position numeric, done bigint, error jsonb)),
  u AS (UPDATE projection_status s SET build_position = coalesce(v.position, s.build_position), build_done = s.build_done + v.done,
               build_error = v.error, updated_at = now()
        FROM v WHERE s.name = v.name RETURNING s.name)
  SELECT count(*) FROM u`;

/** The rows of the last statement of a simple query that ran several. */
function last<R extends QueryResultRow>(result: QueryResult<R> | QueryResult<R>[]): R[] {
  return Array.isArray(result) ? result[result.length - 1].rows : result.rows;
}
