import { Logger } from '@nestjs/common';
import { EventEmitter } from 'node:events';
import { Pool } from 'pg';
import { Projection } from '../../projections/projection';
import { EventStore, StoreUnavailableError, comparePositions } from '../event-store/event-store';
import { connectionName } from '../event-store/postgres-timeouts';
import { Pause, holdLockConnection } from '../read-store/lock-connection';
import { LOCK_NAMESPACE, PROJECTIONS_CHANNEL, dropRetiredSchemas, ensureInitialised, lockKey } from './projection-status';
import { Feed } from './feed';
import { ProjectionStatus, projectionStatuses, readPosition, requestRebuild } from './projection-queries';
import { Feeds, ProjectionWorker, RunnerLogger, WorkerSettings } from './projection-worker';

export type { ProjectionState, ProjectionStatus } from './projection-queries';
export { UnknownProjectionError, projectionStatuses, readPosition, requestRebuild, stateOf } from './projection-queries';

export interface ProjectionRunnerOptions {
  store: EventStore;
  /** The read-model database (also the event log's, when Postgres holds the events). */
  pool: Pool;
  /** For the runner's own dedicated connection (advisory locks and LISTEN). */
  databaseUrl: string;
  projections: readonly Projection[];
  /** Largest live batch (one transaction). Default 500. */
  batchSize?: number;
  /** Live: how long to let events gather after a small batch (see FeedSettings.lingerMs). Default 5 ms. */
  lingerMs?: number;
  /**
   * Live, while behind: events per read and transaction before the subscription takes over.
   * Default 10,000; `batchSize` when that is given (then every live batch is at most that).
   */
  catchUpBatchSize?: number;
  /** Events per rebuild read and transaction. Default 2000. */
  rebuildBatchSize?: number;
  /** Live tables that have applied nothing and are this many events behind catch up as a rebuild. Default 100,000. */
  bulkCatchUpThreshold?: number;
  /** How often a stand-by runner tries to take over a projection. Default 1000 ms. */
  standbyPollMs?: number;
  /** First retry delay after a failure, doubled up to `retryMaxMs`. Defaults 500 ms and 30 s. */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** How long a swapped-out schema stays for readers that already looked it up. Default 60 s. */
  retiredSchemaGraceMs?: number;
  logger?: RunnerLogger;
  /** `application_name` of the dedicated connection, to tell runners apart in pg_stat_activity. */
  applicationName?: string;
  onBatchCommitted?: WorkerSettings['onBatchCommitted'];
}


/** The read store did not answer by `deadline` (ms since the epoch): the caller's wait is over either way. */
function beforeDeadline<T>(work: Promise<T>, deadline: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StoreUnavailableError('readStore', new Error('no answer in time'))), Math.max(0, deadline - Date.now()) + WAIT_GRACE_MS);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}
/** A read that started just before the deadline may take this much longer to answer. */
const WAIT_GRACE_MS = 500;

/** Position answered when nothing has been projected yet. */
export const NO_POSITION = '0';

/**
 * Runs every projection of this process that it can get the advisory lock for, on one dedicated
 * connection: exactly one active runner per projection across processes on a database. The others
 * stand by and try again every `standbyPollMs`; when the holder's connection dies, Postgres releases
 * its locks and a stand-by takes over from the stored checkpoint.
 */
export class ProjectionRunner {
  readonly projections: readonly Projection[];
  private readonly workers = new Map<string, ProjectionWorker>();
  private readonly progress = new EventEmitter();
  private readonly logger: RunnerLogger;
  private readonly standbyPollMs: number;
  private readonly graceMs: number;
  private supervising: Promise<void> | null = null;
  private stopped = false;
  private readonly pause = new Pause(() => this.stopped);
  private readonly feeds: Feeds;

  constructor(private readonly options: ProjectionRunnerOptions) {
    this.projections = options.projections;
    this.logger = options.logger ?? new Logger('ProjectionRunner');
    this.standbyPollMs = options.standbyPollMs ?? 1000;
    this.graceMs = options.retiredSchemaGraceMs ?? 60_000;
    this.progress.setMaxListeners(0);
    const settings: WorkerSettings = {
      batchSize: options.batchSize ?? 500,
      rebuildBatchSize: options.rebuildBatchSize ?? 2000,
      retryBaseMs: options.retryBaseMs ?? 500,
      retryMaxMs: options.retryMaxMs ?? 30_000,
      statusPollMs: Math.max(this.standbyPollMs, 250),
      bulkCatchUpThreshold: options.bulkCatchUpThreshold ?? 100_000,
      logger: this.logger,
      onBatchCommitted: options.onBatchCommitted,
    };
    // One reader of the log for the live tables and one for rebuilds, shared by every projection here.
    const feeds: Feeds = (this.feeds = {
      live: new Feed('live', options.store, options.pool, { batchSize: settings.batchSize, catchUpBatchSize: options.catchUpBatchSize ?? (options.batchSize === undefined ? 10_000 : settings.batchSize), lingerMs: options.lingerMs ?? 5, onBatchCommitted: settings.onBatchCommitted, logger: this.logger }, this.progress),
      rebuild: new Feed('rebuild', options.store, options.pool, { batchSize: settings.rebuildBatchSize, onBatchCommitted: settings.onBatchCommitted, logger: this.logger }, this.progress),
    });
    for (const projection of options.projections) {
      if (this.workers.has(projection.name)) throw new Error(`two projections named ${projection.name}`);
      this.workers.set(projection.name, new ProjectionWorker(projection, options.store, options.pool, settings, this.progress, feeds));
    }
  }

  /** Creates missing status rows and live tables, then starts competing for the projections' locks. */
  async start(): Promise<void> {
    if (this.supervising) return;
    this.stopped = false;
    await ensureInitialised(this.options.pool, this.projections);
    this.supervising = this.supervise();
  }

  /** Stops feeding (in-flight batches finish or roll back, reads in flight come back) and releases the locks. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.pause.wake();
    await this.supervising;
    this.supervising = null;
    await Promise.all([this.feeds.live.idle(), this.feeds.rebuild.idle()]);
  }

  /** Names of the projections this process is currently feeding. */
  activeProjections(): string[] {
    return [...this.workers.values()].filter((w) => w.active).map((w) => w.name);
  }

  private supervise(): Promise<void> {
    let lastHousekeeping = 0;
    return holdLockConnection(
      {
        databaseUrl: this.options.databaseUrl,
        applicationName: this.options.applicationName ?? connectionName('projection runner'),
        channel: PROJECTIONS_CHANNEL,
        onNotification: (payload) => this.onNotification(payload),
        pollMs: this.standbyPollMs,
        pause: this.pause,
        stopped: () => this.stopped,
        logger: this.logger,
        label: 'projection runner',
      },
      async (client) => {
        for (const worker of this.workers.values()) {
          if (worker.active || this.stopped) continue;
          const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS locked', [LOCK_NAMESPACE, lockKey(worker.name)]);
          if (rows[0].locked) {
            this.logger.log(`projection ${worker.name}: active in this process`);
            worker.activate();
          }
        }
        if (Date.now() - lastHousekeeping > Math.min(this.graceMs, 10_000)) {
          lastHousekeeping = Date.now();
          await dropRetiredSchemas(this.options.pool, this.graceMs).catch(() => undefined);
        }
      },
      async () => {
        await Promise.all([...this.workers.values()].map((w) => w.deactivate()));
      },
    );
  }

  private onNotification(payload: string): void {
    const [kind, name] = payload.split(':', 2);
    if (kind === 'progress') this.progress.emit('progress', name);
    if (kind === 'rebuild' || kind === 'retry') this.workers.get(name)?.poke();
  }

  // ──────────────────────────────────────────────────────────── read side API ──

  private names(names?: readonly string[]): string[] {
    return names ? [...names] : this.projections.map((p) => p.name);
  }

  /** How far the read models are: the lowest checkpoint over the given projections (all by default). */
  async readPosition(names?: readonly string[]): Promise<string> {
    return readPosition(this.options.pool, this.names(names));
  }

  /**
   * Resolves once every given projection has applied `position` (true), or after `timeoutMs`
   * (false). Woken by this process's commits and by other processes' NOTIFY, with a poll as backstop.
   */
  async waitForPosition(position: string, timeoutMs: number, names?: readonly string[]): Promise<{ reached: boolean; position: string }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      let wake: () => void = () => undefined;
      const woken = new Promise<void>((resolve) => (wake = resolve));
      this.progress.once('progress', wake);
      try {
        const current = await beforeDeadline(this.readPosition(names), deadline);
        if (comparePositions(current, position) >= 0) return { reached: true, position: current };
        const left = deadline - Date.now();
        if (left <= 0) return { reached: false, position: current };
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([woken, new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.min(left, 200))))]);
        clearTimeout(timer);
      } finally {
        this.progress.off('progress', wake);
      }
    }
  }

  /** Asks whichever process runs the projection to rebuild it; answers at once. */
  async requestRebuild(name: string): Promise<Date> {
    const requestedAt = await requestRebuild(this.options.pool, name);
    this.workers.get(name)?.poke();
    return requestedAt;
  }

  async status(names?: readonly string[]): Promise<ProjectionStatus[]> {
    return projectionStatuses(this.options.store, this.options.pool, this.projections.filter((p) => this.names(names).includes(p.name)));
  }
}
