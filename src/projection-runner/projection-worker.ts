import { EventEmitter } from 'node:events';
import { Pool, PoolClient } from 'pg';
import { ProjectedEvent, Projection, boundSql, quoteIdent, tableNames } from '../../projections/projection';
import { EventStore } from '../event-store/event-store';
import { isConnectionError } from '../event-store/postgres-errors';
import { ARTICLE_EVENT_TYPES } from '../newsroom/article/article.decider';
import { SOURCE_EVENT_TYPES } from '../newsroom/source/source.decider';
import { countEvents } from './event-count';
import { Feed, FeedWorker, HandlerFailure, NeedsCare, Phase, ProjectionHandlerError, failureOf, messageOf, toProjectedEvent } from './feed';
import {
  PROJECTIONS_CHANNEL,
  StatusRow,
  checkout,
  createBuildSchema,
  createIndexes,
  inTransaction,
  loadStatus,
} from './projection-status';

export interface RunnerLogger {
  log(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface WorkerSettings {
  batchSize: number;
  rebuildBatchSize: number;
  retryBaseMs: number;
  retryMaxMs: number;
  statusPollMs: number;
  logger: RunnerLogger;
  /** Called after each committed batch, for observation (tests, metrics). */
  onBatchCommitted?: (projection: string, phase: Phase, events: ProjectedEvent[]) => void;
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
export function unknownTypeCheck(projection: Projection): (event: ProjectedEvent) => boolean {
  if (projection.catchAll) return () => false;
  const followed = CATEGORIES.filter((c) => c.types.some((t) => projection.types.has(t)));
  return (event) => followed.some((c) => event.streamId.startsWith(c.prefix) && !c.types.includes(event.type));
}

/** Positions an operator skipped for this projection (`copydesk projections skip`); read in the batch's transaction. */
async function skippedPositions(client: PoolClient, name: string): Promise<Set<string>> {
  const { rows } = await client.query<{ position: string }>('SELECT position::text AS position FROM projection_skips WHERE name = $1', [name]);
  return new Set(rows.map((r) => r.position));
}

export function needsRebuild(row: StatusRow, projection: Projection): boolean {
  return row.version !== projection.version || row.build_schema !== null || row.rebuild_requested_at !== null;
}

/** One activation of a worker: from taking the projection's lock to losing or releasing it. */
class Session {
  stopped = false;
  liveRestart = false;
  rebuild: Promise<void> | null = null;
  /** Leave the feed this session's live tables / build follow, when following one. */
  leaveLive: (() => void) | null = null;
  leaveBuild: (() => void) | null = null;
  private readonly sleepers = new Set<() => void>();

  sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.sleepers.add(done);
    });
  }

  wake(): void {
    for (const sleeper of [...this.sleepers]) sleeper();
  }

  /** Leaves the live feed so that the loop re-reads the status row and follows again from the checkpoint. */
  restartLive(): void {
    this.liveRestart = true;
    this.leaveLive?.();
    this.wake();
  }

  stop(): void {
    this.stopped = true;
    this.leaveBuild?.();
    this.restartLive();
  }
}

/** The runner's two readers of the log, shared by its workers. */
export interface Feeds {
  live: Feed;
  rebuild: Feed;
}

/**
 * Feeds one projection while its runner holds the projection's advisory lock: its live tables
 * follow the runner's live feed from the stored checkpoint and, when asked (or when the
 * projection's version changed), a rebuild into fresh tables beside them follows the rebuild feed
 * and is swapped in when caught up. Every batch and its checkpoint commit in one transaction, and
 * the checkpoint row is locked first, so an event can never be applied twice (see Feed).
 */
export class ProjectionWorker implements FeedWorker {
  private session: Session | null = null;
  private running: Promise<void> | null = null;
  private readonly tables: string[];

  constructor(
    readonly projection: Projection,
    private readonly store: EventStore,
    private readonly pool: Pool,
    private readonly settings: WorkerSettings,
    private readonly progress: EventEmitter,
    private readonly feeds: Feeds,
  ) {
    this.tables = tableNames(projection);
  }

  get version(): number {
    return this.projection.version;
  }

  get active(): boolean {
    return this.session !== null;
  }

  get name(): string {
    return this.projection.name;
  }

  activate(): void {
    if (this.session) return;
    const session = new Session();
    this.session = session;
    this.running = this.run(session);
  }

  async deactivate(): Promise<void> {
    const session = this.session;
    if (!session) return;
    session.stop();
    await this.running;
    this.session = null;
    this.running = null;
  }

  /** Something changed (a rebuild was asked for): look at the status row again. */
  poke(): void {
    this.session?.restartLive();
  }

  private async run(session: Session): Promise<void> {
    let delay = this.settings.retryBaseMs;
    while (!session.stopped) {
      try {
        session.liveRestart = false;
        const row = await loadStatus(this.pool, this.name);
        if (row.version > this.projection.version || (row.build_version ?? 0) > this.projection.version) {
          // A newer deployment owns this read model; this (older) code must not touch it.
          this.settings.logger.warn(`projection ${this.name}: stored version ${row.version} is newer than ${this.projection.version}; idle`);
          await session.sleep(this.settings.statusPollMs * 10);
          continue;
        }
        if (needsRebuild(row, this.projection) && !session.rebuild) {
          session.rebuild = this.rebuildUntilDone(session).finally(() => {
            session.rebuild = null;
            session.restartLive();
          });
        }
        if (row.version === this.projection.version) await this.live(session, row.position);
        else await session.sleep(this.settings.statusPollMs);
        delay = this.settings.retryBaseMs;
      } catch (error) {
        if (session.stopped) break;
        this.report(error);
        await session.sleep(delay);
        delay = Math.min(delay * 2, this.settings.retryMaxMs);
      }
    }
    await session.rebuild;
  }

  private async live(session: Session, from: string | null): Promise<void> {
    try {
      await this.feeds.live.follow(this, from, {
        onJoined: (leave) => {
          session.leaveLive = leave;
          if (session.stopped || session.liveRestart) leave();
        },
      });
    } finally {
      session.leaveLive = null;
    }
  }

  private readonly isUnknownType = unknownTypeCheck(this.projection);

  /**
   * Applies the batch's events (skipped positions and types the projection does not apply left
   * out) in one `apply`. When it throws, or an event is a poison by type (see unknownTypeCheck),
   * the events before the one at fault stay applied, nothing of that one does, and it is reported: `apply`
   * is retried one event at a time, each behind a savepoint, to find it. Not `careful`, it spends no
   * statement on savepoints and throws NeedsCare instead: the caller rolls back and comes again.
   */
  async applyEvents(client: PoolClient, schema: string, events: ProjectedEvent[], skipped: Set<string>, careful = true): Promise<HandlerFailure | null> {
    const sql = boundSql(client, schema, this.tables);
    const { projection } = this;
    let poison: HandlerFailure | null = null;
    const applied: ProjectedEvent[] = [];
    for (let i = 0; i < events.length; i++) {
      const event = events[i];
      if (skipped.has(event.position)) continue;
      if (projection.catchAll || projection.types.has(event.type)) applied.push(event);
      else if (this.isUnknownType(event)) {
        poison = { index: i, error: new Error(`unknown event type ${event.type} in stream ${event.streamId}`) };
        break;
      }
    }
    if (!careful && poison) throw new NeedsCare(poison.error);
    if (applied.length === 0) return poison;
    if (!careful) {
      try {
        await projection.apply(applied, sql);
        return null;
      } catch (error) {
        throw isConnectionError(error) ? error : new NeedsCare(error);
      }
    }
    await client.query('SAVEPOINT batch');
    try {
      await projection.apply(applied, sql);
      await client.query('RELEASE SAVEPOINT batch');
      return poison;
    } catch (error) {
      if (isConnectionError(error)) return { index: 0, error };
      await client.query('ROLLBACK TO SAVEPOINT batch');
    }
    for (const event of applied) {
      await client.query('SAVEPOINT event');
      try {
        await projection.apply([event], sql);
        await client.query('RELEASE SAVEPOINT event');
      } catch (error) {
        if (!isConnectionError(error)) await client.query('ROLLBACK TO SAVEPOINT event');
        return { index: events.indexOf(event), error };
      }
    }
    // The batch failed as a whole but applies event by event (a set-based `apply` that gets some
    // combination wrong): the one-by-one result stands, and the projection's author should know.
    this.settings.logger.warn(`projection ${this.name}: a batch of ${applied.length} failed as a whole but applied one event at a time`);
    return poison;
  }

  private async recordFailure(phase: Phase, event: ProjectedEvent, error: unknown): Promise<void> {
    const failure = failureOf(phase, event, error);
    const column = phase === 'live' ? 'error' : 'build_error';
    await this.pool.query(`UPDATE projection_status SET ${column} = $2, updated_at = now() WHERE name = $1`, [this.name, JSON.stringify(failure)]);
  }

  // ───────────────────────────────────────────────────────────────── rebuild ──

  private async rebuildUntilDone(session: Session): Promise<void> {
    let delay = this.settings.retryBaseMs;
    while (!session.stopped) {
      try {
        await this.rebuildOnce(session);
        return;
      } catch (error) {
        if (session.stopped) return;
        this.report(error);
        await session.sleep(delay);
        delay = Math.min(delay * 2, this.settings.retryMaxMs);
      }
    }
  }

  /**
   * Builds the projection from the first event into a new schema while the live tables keep
   * answering (and, when the version is unchanged, keep being fed), then swaps. A build that a
   * crashed runner left behind is resumed from its own checkpoint.
   */
  private async rebuildOnce(session: Session): Promise<void> {
    const row = await loadStatus(this.pool, this.name);
    let schema = row.build_schema;
    let from = row.build_position;
    if (schema === null || row.build_version !== this.projection.version) {
      from = null;
      const head = await this.store.headPosition();
      const total = await countEvents(this.store, this.pool, null, head);
      schema = await inTransaction(this.pool, async (client) => {
        const current = await loadStatus(client, this.name, true);
        const created = await createBuildSchema(client, this.projection, { deferIndexes: true });
        await client.query(
          `UPDATE projection_status SET build_schema = $2, build_version = $3, build_position = NULL, build_target = $4, build_done = 0,
                  build_total = $5, build_started_at = clock_timestamp(), build_error = NULL, rebuild_requested_at = NULL, updated_at = now()
           WHERE name = $1`,
          [this.name, created, this.projection.version, head, total],
        );
        // A build nobody ever read from (left by an older version): no grace needed.
        if (current.build_schema !== null) await client.query(`DROP SCHEMA IF EXISTS ${quoteIdent(current.build_schema)} CASCADE`);
        return created;
      });
      this.settings.logger.log(`projection ${this.name}: rebuilding from the first event into ${schema} (${total} events)`);
    } else if (row.rebuild_requested_at !== null) {
      await this.pool.query('UPDATE projection_status SET rebuild_requested_at = NULL WHERE name = $1 AND build_schema = $2', [this.name, schema]);
    }

    let reason;
    try {
      reason = await this.feeds.rebuild.follow(this, from, {
        buildSchema: schema,
        onJoined: (leave) => {
          session.leaveBuild = leave;
          if (session.stopped) leave();
        },
      });
    } finally {
      session.leaveBuild = null;
    }
    if (reason !== 'caught-up') return;
    if (session.stopped) return;
    await createIndexes(this.pool, this.projection, schema);
    if (session.stopped) return;
    await this.swap(schema);
  }

  /**
   * In one transaction, with the checkpoint row locked (so no live batch runs meanwhile): apply what
   * arrived since the build's checkpoint, point the projection at the new schema with the build's
   * checkpoint, and retire the old schema. A reader sees either the old tables or the new ones.
   */
  private async swap(schema: string): Promise<void> {
    const client = await checkout(this.pool);
    let broken: Error | undefined;
    let failure: { event: ProjectedEvent; error: unknown } | null = null;
    let swapped = false;
    try {
      await client.query('BEGIN');
      const row = await loadStatus(client, this.name, true);
      if (row.build_schema !== schema) {
        await client.query('ROLLBACK');
        return;
      }
      let position = row.build_position;
      const skipped = await skippedPositions(client, this.name);
      for (;;) {
        const recorded = await this.store.readAll({ fromPosition: position ?? undefined, maxCount: this.settings.rebuildBatchSize });
        if (recorded.length === 0) break;
        const events = recorded.map(toProjectedEvent);
        const failed = await this.applyEvents(client, schema, events, skipped);
        if (failed) {
          failure = { event: events[failed.index], error: failed.error };
          break;
        }
        position = events[events.length - 1].position;
      }
      if (failure) {
        if (isConnectionError(failure.error)) broken = failure.error as Error;
        await client.query('ROLLBACK');
      } else {
        await client.query(
          `UPDATE projection_status SET schema_name = build_schema, version = build_version, position = $2,
                  build_schema = NULL, build_version = NULL, build_position = NULL, build_target = NULL, build_done = 0,
                  build_total = NULL, build_started_at = NULL, error = NULL, build_error = NULL, rebuilt_at = clock_timestamp(), updated_at = now()
           WHERE name = $1`,
          [this.name, position],
        );
        await client.query('INSERT INTO projection_retired_schemas (schema_name) VALUES ($1) ON CONFLICT DO NOTHING', [row.schema_name]);
        await client.query('SELECT pg_notify($1, $2)', [PROJECTIONS_CHANNEL, `progress:${this.name}`]);
        await client.query('COMMIT');
        swapped = true;
      }
    } catch (error) {
      await client.query('ROLLBACK').catch((rollbackError: Error) => (broken = rollbackError));
      throw error;
    } finally {
      client.done(broken);
    }
    if (failure) {
      if (isConnectionError(failure.error)) throw failure.error;
      await this.recordFailure('rebuild', failure.event, failure.error);
      throw new ProjectionHandlerError(this.name, failure.event, failure.error);
    }
    if (swapped) {
      this.progress.emit('progress', this.name);
      this.settings.logger.log(`projection ${this.name}: rebuilt and swapped in ${schema}`);
    }
  }

  private report(error: unknown): void {
    if (error instanceof ProjectionHandlerError) this.settings.logger.error(error.message);
    else this.settings.logger.warn(`projection ${this.name}: ${messageOf(error)}; retrying`);
  }
}
