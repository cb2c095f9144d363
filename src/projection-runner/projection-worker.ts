import { EventEmitter } from 'node:events';
import { Pool } from 'pg';
import { ProjectedEvent, Projection } from '../../projections/projection';
import { EventStore } from '../event-store/event-store';
import { Phase, ProjectionHandlerError, messageOf } from './apply-batch';
import { Feed } from './feed';
import { loadStatus } from './projection-status';
import { RebuildContext, askBulkCatchUp, needsRebuild, rebuild } from './rebuild';

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
  /** Live tables that have applied nothing, this many events behind or more, catch up as a rebuild (see askBulkCatchUp). */
  bulkCatchUpThreshold: number;
  logger: RunnerLogger;
  /** Called after each committed batch, for observation (tests, metrics). */
  onBatchCommitted?: (projection: string, phase: Phase, events: ProjectedEvent[]) => void;
}

/** The runner's two readers of the log, shared by its workers. */
export interface Feeds {
  live: Feed;
  rebuild: Feed;
}

/**
 * One activation of a worker: from taking the projection's lock to losing or releasing it.
 * `stopping` ends everything; each pass of the live loop follows the feed with a signal of its own,
 * aborted to make it look at the status row again.
 */
class Session {
  readonly stopping = new AbortController();
  private live = new AbortController();
  rebuild: Promise<void> | null = null;

  get stopped(): boolean {
    return this.stopping.signal.aborted;
  }

  /** The signal for the next pass of the live loop (aborted already if the session is). */
  nextLivePass(): AbortSignal {
    this.live = new AbortController();
    return AbortSignal.any([this.live.signal, this.stopping.signal]);
  }

  /** Ends the live pass in progress and every wait, so that the loops look at the status row again. */
  restartLive(): void {
    this.live.abort();
    for (const sleeper of [...this.sleepers]) sleeper();
  }

  stop(): void {
    this.stopping.abort();
    this.restartLive();
  }

  private readonly sleepers = new Set<() => void>();

  /** Waits `ms`, or less when restarted or stopped meanwhile. */
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
}

/**
 * Feeds one projection while its runner holds the projection's advisory lock: its live tables
 * follow the runner's live feed from the stored checkpoint and, when asked (or when the
 * projection's version changed), a rebuild into fresh tables beside them follows the rebuild feed
 * and is swapped in when caught up (see rebuild). Every batch and its checkpoint commit in one
 * transaction, with the checkpoint row locked first, so an event is never applied twice (see applyBatch).
 */
export class ProjectionWorker {
  private session: Session | null = null;
  private running: Promise<void> | null = null;
  private readonly rebuildContext: RebuildContext;

  constructor(
    readonly projection: Projection,
    store: EventStore,
    private readonly pool: Pool,
    private readonly settings: WorkerSettings,
    private readonly progress: EventEmitter,
    private readonly feeds: Feeds,
  ) {
    this.rebuildContext = { projection, store, pool, feed: feeds.rebuild, batchSize: settings.rebuildBatchSize, logger: settings.logger };
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

  /** Stops feeding: resolves once nothing of this worker is in flight. */
  async deactivate(): Promise<void> {
    const session = this.session;
    if (!session) return;
    session.stop();
    await this.running;
    this.session = null;
    this.running = null;
  }

  /** Something changed (a rebuild or a retry was asked for): look at the status row again. */
  poke(): void {
    this.session?.restartLive();
  }

  private async run(session: Session): Promise<void> {
    let delay = this.settings.retryBaseMs;
    while (!session.stopped) {
      const pass = session.nextLivePass();
      try {
        const row = await loadStatus(this.pool, this.name);
        if (row.version > this.projection.version || (row.build_version ?? 0) > this.projection.version) {
          // A newer deployment owns this read model; this (older) code must not touch it.
          this.settings.logger.warn(`projection ${this.name}: stored version ${row.version} is newer than ${this.projection.version}; idle`);
          await session.sleep(this.settings.statusPollMs * 10);
          continue;
        }
        if (row.position === null && !needsRebuild(row, this.projection) && (await askBulkCatchUp(this.rebuildContext, this.settings.bulkCatchUpThreshold))) continue;
        const rebuilding = needsRebuild(row, this.projection);
        if (rebuilding && !session.rebuild) {
          session.rebuild = this.rebuildUntilDone(session).finally(() => {
            session.rebuild = null;
            session.restartLive();
          });
        }
        // Live tables that hold nothing wait for the build that will replace them, rather than race it.
        if (row.version === this.projection.version && !(rebuilding && row.position === null)) await this.feeds.live.follow(this.projection, row.position, { signal: pass });
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

  private async rebuildUntilDone(session: Session): Promise<void> {
    let delay = this.settings.retryBaseMs;
    while (!session.stopped) {
      try {
        if (await rebuild(this.rebuildContext, session.stopping.signal)) this.progress.emit('progress', this.name);
        return;
      } catch (error) {
        if (session.stopped) return;
        this.report(error);
        await session.sleep(delay);
        delay = Math.min(delay * 2, this.settings.retryMaxMs);
      }
    }
  }

  private report(error: unknown): void {
    if (error instanceof ProjectionHandlerError) this.settings.logger.error(error.message);
    else this.settings.logger.warn(`projection ${this.name}: ${messageOf(error)}; retrying`);
  }
}
