import { EventEmitter } from 'node:events';
import { Pool, PoolClient, QueryResult, QueryResultRow } from 'pg';
import { ProjectedEvent } from '../../projections/projection';
import { EventStore, RecordedEvent, comparePositions } from '../event-store/event-store';
import { isConnectionError } from '../event-store/postgres-errors';
import { toDomainEvent } from '../newsroom/event-codec';
import { PROJECTIONS_CHANNEL, ProjectionFailure, StatusRow, checkout } from './projection-status';

export type Phase = 'live' | 'rebuild';

export interface HandlerFailure {
  index: number;
  error: unknown;
}

/** What a feed needs of a projection's worker. */
export interface FeedWorker {
  readonly name: string;
  readonly version: number;
  /**
   * Applies `events` to the tables in `schema` within the caller's transaction. `careful`: behind
   * savepoints, answering the first failure if any; otherwise throws NeedsCare on any failure.
   */
  applyEvents(client: PoolClient, schema: string, events: ProjectedEvent[], skipped: Set<string>, careful: boolean): Promise<HandlerFailure | null>;
}

/** A member failed in a batch applied without savepoints: roll back and apply it again carefully. */
export class NeedsCare extends Error {
  constructor(readonly error: unknown) {
    super(`needs care: ${messageOf(error)}`);
  }
}

/** Why a member left the feed. */
export type LeaveReason =
  /** Asked to (stopped, or something changed: the worker looks at its status row again). */
  | 'left'
  /** The status row no longer matches what the member was feeding (a newer version, another build). */
  | 'stale'
  /** Rebuild only: the build has reached the head read when it started; time to swap. */
  | 'caught-up';

/** A handler threw on this event; the projection is marked failed and the event will be retried. */
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
  return {
    phase,
    position: event.position,
    eventId: event.id,
    eventType: event.type,
    streamId: event.streamId,
    message: messageOf(error),
    at: new Date().toISOString(),
  };
}

export interface FeedSettings {
  batchSize: number;
  /**
   * Live only: after a batch smaller than `batchSize`, wait this long before reading the next, so
   * that events arriving meanwhile share a transaction (fewer statements and commits per event
   * under load, at most this much more lag when idle). 0: read again at once.
   */
  lingerMs?: number;
  onBatchCommitted?: (projection: string, phase: Phase, events: ProjectedEvent[]) => void;
}

interface Member {
  worker: FeedWorker;
  /** Its checkpoint when it joined (null: from the first event). */
  from: string | null;
  /** Rebuild: the build schema it feeds; the batch is stale for it once the status row names another. */
  buildSchema: string | null;
  /** Rebuild: full batches applied past the build's target. */
  extra: number;
  leaving: LeaveReason | null;
  settle(outcome: { reason: LeaveReason } | { error: unknown }): void;
}

/** Once a build has reached the head read at its start, at most this many more full batches before the swap. */
const MAX_EXTRA_BATCHES = 20;

/**
 * One reader of the log for every projection of this process in a phase: the live tables (a
 * catch-up subscription to $all that goes live) or rebuilds (pages of $all up to the head). Each
 * batch is read and decoded once and applied to every member in ONE transaction: the members'
 * status rows are locked (in name order, so feeds never deadlock), each member applies the events
 * after its own checkpoint behind a savepoint, and all checkpoints move in one statement. A member
 * whose handler fails is rolled back alone (the events before the failing one are kept), its failure
 * is recorded in the same transaction, and it leaves with the error; the others go on.
 *
 * The transactions commit with `synchronous_commit = off`: read models are derived data, rows and
 * checkpoint commit together, and a PostgreSQL crash can only lose the last few batches whole —
 * rows and checkpoint together — which are then applied again. The event log's own appends stay
 * synchronous.
 *
 * A member joining behind what the feed has read makes it start again from the lowest checkpoint;
 * members ahead skip what they have (the checkpoint filter under the row lock is what makes every
 * event apply exactly once, whoever reads it).
 */
export class Feed {
  private readonly members = new Map<string, Member>();
  /** Whether `run` is looping; set and cleared synchronously with its loop's entry and exit. */
  private looping = false;
  /**
   * Everything after this position will still be handed to the members (null: from the first
   * event): where the current pass started, then the end of the last batch read.
   */
  private delivered: string | null = null;
  private restart = false;
  private closeSource: (() => Promise<void>) | null = null;
  private applying = false;

  constructor(
    readonly phase: Phase,
    private readonly store: EventStore,
    private readonly pool: Pool,
    private readonly settings: FeedSettings,
    private readonly progress: EventEmitter,
  ) {}

  /**
   * Feeds `worker` from its checkpoint `from` until it leaves: resolves with the reason, rejects
   * with a ProjectionHandlerError (its failure was recorded) or a store/connection error. Never
   * settles while a batch that includes it is in flight, so a worker that has left applies nothing.
   */
  follow(worker: FeedWorker, from: string | null, options: { buildSchema?: string; onJoined?: (leave: () => void) => void } = {}): Promise<LeaveReason> {
    if (this.members.has(worker.name)) throw new Error(`${worker.name} already follows the ${this.phase} feed`);
    return new Promise<LeaveReason>((resolve, reject) => {
      const member: Member = {
        worker,
        from,
        buildSchema: options.buildSchema ?? null,
        extra: 0,
        leaving: null,
        settle: (outcome) => {
          if (this.members.get(worker.name) !== member) return;
          this.members.delete(worker.name);
          if ('error' in outcome) reject(outcome.error);
          else resolve(outcome.reason);
        },
      };
      this.members.set(worker.name, member);
      // Behind what has been read: read again from the lowest checkpoint.
      if (this.looping && this.delivered !== null && (from === null || comparePositions(from, this.delivered) < 0)) this.requestRestart();
      options.onJoined?.(() => this.leave(worker.name, 'left'));
      if (!this.looping) {
        this.looping = true;
        void this.run();
      }
    });
  }

  private leave(name: string, reason: LeaveReason): void {
    const member = this.members.get(name);
    if (!member) return;
    if (this.applying) member.leaving ??= reason;
    else member.settle({ reason });
  }

  private requestRestart(): void {
    this.restart = true;
    void this.closeSource?.();
  }

  private async run(): Promise<void> {
    // No await between the loop's last check and clearing `looping`: a member joining meanwhile starts a new run.
    while (this.members.size > 0) {
      this.restart = false;
      const from = lowest([...this.members.values()].map((m) => m.from));
      this.delivered = from;
      let source: AsyncIterable<RecordedEvent[]> & { close(): Promise<void> };
      try {
        source = this.phase === 'live' ? this.store.subscribeToAll({ fromPosition: from ?? undefined, maxBatchSize: this.settings.batchSize }) : pages(this.store, from, this.settings.batchSize);
      } catch (error) {
        for (const member of [...this.members.values()]) member.settle({ error });
        continue;
      }
      this.closeSource = () => source.close();
      try {
        for await (const batch of source) {
          if (this.restart || this.members.size === 0) break;
          await this.apply(batch.map(toProjectedEvent), batch.length);
          if (this.restart) break;
          const linger = this.settings.lingerMs ?? 0;
          if (this.phase === 'live' && linger > 0 && batch.length < this.settings.batchSize) await new Promise((resolve) => setTimeout(resolve, linger));
        }
        if (this.phase === 'rebuild' && !this.restart) {
          // The end of the log: every build still here is as far as it can get before its swap.
          for (const member of [...this.members.values()]) member.settle({ reason: 'caught-up' });
        }
      } catch (error) {
        // The store or the read-model database failed: every member leaves with it and retries.
        for (const member of [...this.members.values()]) member.settle({ error });
      } finally {
        this.closeSource = null;
        await source.close().catch(() => undefined);
      }
    }
    this.looping = false;
  }

  /** Applies one batch to every member (live: all in one transaction), then settles the members that are done. */
  private async apply(events: ProjectedEvent[], read: number): Promise<void> {
    if (events.length === 0) return;
    const members = [...this.members.values()].filter((m) => m.leaving === null);
    const outcomes = new Map<string, { reason: LeaveReason } | { error: unknown }>();
    const committed: { name: string; events: ProjectedEvent[] }[] = [];
    // A member joining from before the end of this batch (which it will not be part of) needs a restart.
    this.delivered = events[events.length - 1].position;
    this.applying = true;
    try {
      // Live: every member in one transaction (one commit for all). Rebuilds: each build in a
      // transaction of its own, side by side, so that PostgreSQL works on several while this process
      // prepares the next; a build's checkpoint is its own anyway.
      const groups = this.phase === 'live' ? [members] : members.map((m) => [m]);
      // allSettled: a failed group must not let the others' transactions run on after this returns.
      const settled = await Promise.allSettled(
        groups
          .filter((group) => group.length > 0)
          .map(async (group) => {
            // Fast, without a savepoint; when a member fails, again with one per member to keep the others.
            try {
              await this.transaction(group, events, read, outcomes, committed, false);
            } catch (error) {
              if (!(error instanceof NeedsCare)) throw error;
              await this.transaction(group, events, read, outcomes, committed, true);
            }
          }),
      );
      const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    } finally {
      this.applying = false;
    }
    for (const member of members) {
      const outcome = outcomes.get(member.worker.name);
      if (outcome) member.settle(outcome);
    }
    for (const member of [...this.members.values()]) if (member.leaving) member.settle({ reason: member.leaving });
    for (const { name, events: applied } of committed) {
      const member = this.members.get(name);
      if (member) member.from = applied[applied.length - 1].position;
      this.progress.emit('progress', name);
      this.settings.onBatchCommitted?.(name, this.phase, applied);
    }
  }

  private async transaction(
    members: Member[],
    events: ProjectedEvent[],
    read: number,
    outcomes: Map<string, { reason: LeaveReason } | { error: unknown }>,
    committed: { name: string; events: ProjectedEvent[] }[],
    careful: boolean,
  ): Promise<void> {
    const client = await checkout(this.pool);
    let broken: Error | undefined;
    try {
      // Statements without parameters go together as one simple query: a round trip each saved, on
      // a path taken for every batch. Every value in them is escaped as a literal.
      const names = members.map((m) => client.escapeLiteral(m.worker.name)).join(', ');
      const rows = last<StatusRow & { skipped: string[] }>(
        await client.query(
          `BEGIN; SET LOCAL synchronous_commit = off;
           SELECT s.*, ARRAY(SELECT k.position::text FROM projection_skips k WHERE k.name = s.name) AS skipped
           FROM projection_status s WHERE s.name IN (${names}) ORDER BY s.name FOR UPDATE OF s`,
        ),
      );
      const byName = new Map(rows.map((r) => [r.name, r]));
      const updates: { name: string; position: string | null; done: number; error: ProjectionFailure | null }[] = [];
      for (const member of [...members].sort((a, b) => (a.worker.name < b.worker.name ? -1 : 1))) {
        const { worker } = member;
        const row = byName.get(worker.name);
        if (!row || this.isStale(row, member)) {
          outcomes.set(worker.name, { reason: 'stale' });
          continue;
        }
        const schema = this.phase === 'live' ? row.schema_name : row.build_schema!;
        const from = this.phase === 'live' ? row.position : row.build_position;
        const fresh = from === null ? events : events.filter((e) => comparePositions(e.position, from) > 0);
        if (fresh.length > 0) {
          const skipped = new Set(row.skipped);
          const failure = await worker.applyEvents(client, schema, fresh, skipped, careful);
          let applied = fresh;
          if (failure) {
            if (isConnectionError(failure.error)) {
              broken = failure.error as Error;
              throw failure.error;
            }
            // Only a careful apply answers a failure, and it leaves the events before the one at
            // fault applied and nothing of that one (see applyEvents): keep them, record the failure.
            const failed = fresh[failure.index];
            applied = fresh.slice(0, failure.index);
            updates.push({ name: worker.name, position: applied.length ? applied[applied.length - 1].position : null, done: applied.length, error: failureOf(this.phase, failed, failure.error) });
            outcomes.set(worker.name, { error: new ProjectionHandlerError(worker.name, failed, failure.error) });
          } else {
            updates.push({ name: worker.name, position: fresh[fresh.length - 1].position, done: fresh.length, error: null });
          }
          if (applied.length > 0) committed.push({ name: worker.name, events: applied });
        }
        if (this.phase === 'rebuild' && !outcomes.has(worker.name)) {
          const position = updates.find((u) => u.name === worker.name)?.position ?? row.build_position;
          const reachedTarget = row.build_target === null || (position !== null && comparePositions(position, row.build_target) >= 0);
          if (reachedTarget && (read < this.settings.batchSize || ++member.extra > MAX_EXTRA_BATCHES)) outcomes.set(worker.name, { reason: 'caught-up' });
        }
      }
      const advance = updates.length === 0 ? '' : (this.phase === 'live' ? ADVANCE_LIVE : ADVANCE_BUILD).replace('$1', () => client.escapeLiteral(JSON.stringify(updates)));
      await client.query(`${advance}${advance ? ';' : ''} COMMIT`);
    } catch (error) {
      await client.query('ROLLBACK').catch((rollbackError: Error) => (broken = rollbackError));
      // Nothing of this transaction happened (other groups' entries stay).
      const mine = new Set(members.map((m) => m.worker.name));
      for (const name of mine) outcomes.delete(name);
      for (let i = committed.length - 1; i >= 0; i--) if (mine.has(committed[i].name)) committed.splice(i, 1);
      throw error;
    } finally {
      client.done(broken);
    }
  }

  private isStale(row: StatusRow, member: Member): boolean {
    if (this.phase === 'live') return row.version !== member.worker.version;
    return row.build_schema === null || row.build_schema !== member.buildSchema;
  }
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

function lowest(positions: (string | null)[]): string | null {
  let low: string | null | undefined;
  for (const p of positions) {
    if (p === null) return null;
    if (low === undefined || comparePositions(p, low!) < 0) low = p;
  }
  return low ?? null;
}

/** $all from `from` to its current end, a page at a time, as a closable async iterable of batches. */
function pages(store: EventStore, from: string | null, size: number): AsyncIterable<RecordedEvent[]> & { close(): Promise<void> } {
  let closed = false;
  return {
    async *[Symbol.asyncIterator]() {
      let position = from;
      while (!closed) {
        const page = await store.readAll({ fromPosition: position ?? undefined, maxCount: size });
        if (page.length === 0) return;
        position = page[page.length - 1].position;
        yield page;
      }
    },
    close: async () => {
      closed = true;
    },
  };
}

/** Every read path goes through `toDomainEvent`, so upcasting happens in one place. */
export function toProjectedEvent(recorded: RecordedEvent): ProjectedEvent {
  const { type, data } = toDomainEvent(recorded);
  return {
    id: recorded.id,
    streamId: recorded.streamId,
    revision: recorded.revision,
    position: recorded.position,
    type,
    data,
    metadata: recorded.metadata,
    created: recorded.created,
  };
}
