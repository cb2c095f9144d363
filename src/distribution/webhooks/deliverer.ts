import { Logger } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { Pool } from 'pg';
import { WebhookSettings } from '../../config/configuration';
import { AllSubscription, EventStore, RecordedEvent } from '../../event-store/event-store';
import { connectionName } from '../../event-store/postgres-timeouts';
import { Pause, holdLockConnection } from '../../read-store/lock-connection';
import { SourceKind } from '../../newsroom/source/source.decider';
import { createPoster, Poster } from './http-post';
import { StreamCache, buildPayload, wanted } from './payload';
import { sign } from './signing';
import { WebhookEvents } from './webhook-events';
import {
  SubscriptionRow,
  SubscriptionStatus,
  WEBHOOKS_CHANNEL,
  advanceCheckpoint,
  deliverableSubscriptions,
  deliveryAttempts,
  findSubscription,
  AttemptOutcome,
  recordAttempt,
} from './webhook-store';

export interface DelivererOptions {
  store: EventStore;
  pool: Pool;
  /** For the dedicated connection that holds the advisory lock and LISTENs. */
  databaseUrl: string;
  settings: WebhookSettings;
  publicUrl: string;
  events: WebhookEvents;
  /** How often a stand-by process tries to take over, and the active one looks at the table. Default 1000 ms. */
  pollMs?: number;
  logger?: Pick<Logger, 'log' | 'warn' | 'error'>;
  /** Observes each attempt (metrics, tests). */
  onAttempt?: (outcome: 'delivered' | 'failed' | 'disabled') => void;
}

const LOCK_NAMESPACE = 0x43445748; // "CDWH"
const LOCK_KEY = createHash('sha1').update('copydesk:webhooks').digest().readUInt32BE(0) & 0x7fffffff;

/**
 * Webhook delivery: a subscriber of the event log of its own. One process at a time delivers (an
 * advisory lock on a dedicated connection, as the projection runner holds its own; when that
 * connection dies PostgreSQL releases the lock and a stand-by takes over from the stored
 * checkpoints). The active process runs one loop per subscription, so a slow or dead receiver only
 * ever holds up its own subscription.
 */
export class WebhookDeliverer {
  private readonly loops = new Map<string, SubscriptionLoop>();
  private readonly logger: Pick<Logger, 'log' | 'warn' | 'error'>;
  private readonly pollMs: number;
  private running: Promise<void> | null = null;
  private stopped = false;
  private readonly pause = new Pause(() => this.stopped);

  constructor(private readonly options: DelivererOptions) {
    this.logger = options.logger ?? new Logger('Webhooks');
    this.pollMs = options.pollMs ?? 1000;
  }

  start(): void {
    if (this.running) return;
    this.stopped = false;
    this.running = this.supervise();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.pause.wake();
    await this.running;
    this.running = null;
  }

  /** Whether this process holds the delivery lock. */
  private holding = false;

  private supervise(): Promise<void> {
    return holdLockConnection(
      {
        databaseUrl: this.options.databaseUrl,
        applicationName: connectionName('webhook delivery'),
        channel: WEBHOOKS_CHANNEL,
        onNotification: () => this.pause.wake(),
        pollMs: this.pollMs,
        pause: this.pause,
        stopped: () => this.stopped,
        logger: this.logger,
        label: 'webhook delivery',
      },
      async (client) => {
        if (!this.holding) {
          const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS locked', [LOCK_NAMESPACE, LOCK_KEY]);
          if (rows[0].locked) {
            this.holding = true;
            this.logger.log('webhook delivery: active in this process');
          }
        }
        if (this.holding) await this.reconcile();
      },
      async () => {
        await this.stopLoops([...this.loops.keys()]);
        this.holding = false;
      },
    );
  }

  /** Starts a loop for each deliverable subscription without one; stops the loops of deleted or disabled ones. */
  private async reconcile(): Promise<void> {
    const rows = await deliverableSubscriptions(this.options.pool);
    const wantedIds = new Set(rows.map((r) => r.id));
    await this.stopLoops([...this.loops.keys()].filter((id) => !wantedIds.has(id) || this.loops.get(id)!.finished));
    for (const row of rows) {
      if (this.loops.has(row.id) || this.stopped) continue;
      const loop = new SubscriptionLoop(row, this.options, this.logger);
      this.loops.set(row.id, loop);
      loop.start();
    }
  }

  private async stopLoops(ids: string[]): Promise<void> {
    await Promise.all(
      ids.map(async (id) => {
        const loop = this.loops.get(id);
        this.loops.delete(id);
        await loop?.stop();
      }),
    );
  }
}

/** Full jitter on the upper half: between half and all of `base · 2^(attempt-1)`, at most `max`. */
export function backoffMs(attempt: number, baseMs: number, maxMs: number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt - 1, 30));
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}

/**
 * One subscription's delivery: reads the log from the subscription's checkpoint through the event
 * store's catch-up subscription (live: woken by appends), and for each event it wants, POSTs until a
 * 2xx (retrying with back-off, holding back every later event: log order), then moves the checkpoint
 * past it in the transaction that records the delivery. At least once: a process that dies after the
 * receiver answered and before that commit sends the event again, with the same `webhook-id`.
 */
class SubscriptionLoop {
  private readonly abort = new AbortController();
  private readonly poster: Poster;
  private readonly kinds = new Map<string, SourceKind>();
  private readonly streams = new StreamCache();
  /** The first delivery of this loop looks up the attempts an earlier process made. */
  private first = true;
  /** Attempt records, written in order; a failed write fails the loop (which resumes from the checkpoint). */
  private recording: Promise<void> = Promise.resolve();
  private recordFailure: unknown = null;
  private subscription: AllSubscription | null = null;
  private running: Promise<void> | null = null;
  finished = false;

  constructor(
    private row: SubscriptionRow,
    private readonly options: DelivererOptions,
    private readonly logger: Pick<Logger, 'log' | 'warn' | 'error'>,
  ) {
    this.poster = createPoster({ timeoutMs: options.settings.timeoutMs, allowPrivate: options.settings.allowPrivate });
  }

  start(): void {
    this.running = this.run();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.subscription?.close().catch(() => undefined);
    await this.running;
    this.poster.close();
  }

  private get stopping(): boolean {
    return this.abort.signal.aborted;
  }

  private async run(): Promise<void> {
    let delay = 200;
    while (!this.stopping) {
      try {
        const fresh = await findSubscription(this.options.pool, this.row.id);
        if (!fresh || fresh.status === 'disabled') break;
        this.row = fresh;
        await this.follow();
        if (this.finished) break;
      } catch (error) {
        if (this.stopping) break;
        this.logger.warn(`webhook ${this.row.id}: ${error instanceof Error ? error.message : String(error)}; resuming from its checkpoint`);
        await this.sleep(delay);
        delay = Math.min(delay * 2, 5000);
      }
    }
    this.finished = true;
  }

  private async follow(): Promise<void> {
    const subscription = this.options.store.subscribeToAll({ fromPosition: this.row.position, maxBatchSize: 100 });
    this.subscription = subscription;
    // stop() may have come before this subscription existed: it ends it either way.
    const end = () => void subscription.close().catch(() => undefined);
    this.abort.signal.addEventListener('abort', end);
    if (this.stopping) end();
    try {
      for await (const batch of subscription) {
        let skipped: string | null = null;
        for (const event of batch) {
          if (this.stopping) return;
          this.streams.observe(event);
          if (!wanted(this.row.events, event)) {
            skipped = event.position;
            continue;
          }
          if (skipped) {
            const through = skipped;
            void this.write(() => advanceCheckpoint(this.options.pool, this.row.id, through));
          }
          skipped = null;
          const outcome = await this.deliver(event);
          if (outcome !== 'delivered') return;
          this.row.position = event.position;
        }
        if (skipped && !this.stopping) {
          const through = skipped;
          void this.write(() => advanceCheckpoint(this.options.pool, this.row.id, through));
          this.row.position = skipped;
        }
      }
    } finally {
      this.abort.signal.removeEventListener('abort', end);
      this.subscription = null;
      await subscription.close().catch(() => undefined);
      await this.recording;
    }
    if (this.recordFailure) {
      const failure = this.recordFailure;
      this.recordFailure = null;
      this.first = true;
      throw failure;
    }
  }

  /** Tries until delivered; 'stopped' when asked to stop, 'disabled' after failing for `disableAfterMs`. */
  private async deliver(event: RecordedEvent): Promise<'delivered' | 'stopped' | 'disabled'> {
    const body = JSON.stringify(await buildPayload(this.options.store, event, { publicUrl: this.options.publicUrl }, { kinds: this.kinds, streams: this.streams }));
    const url = new URL(this.row.url);
    // Only an event tried before this loop started (before a restart) can have attempts recorded.
    let attempts = this.first ? await deliveryAttempts(this.options.pool, this.row.id, event.position) : 0;
    this.first = false;
    const ref = { id: event.id, type: event.type, streamId: event.streamId, position: event.position };
    for (;;) {
      if (this.stopping) return 'stopped';
      attempts++;
      const timestamp = Math.floor(Date.now() / 1000);
      const headers = { 'webhook-id': event.id, 'webhook-timestamp': String(timestamp), 'webhook-signature': sign(this.row.secret, event.id, timestamp, body) };
      const result = await this.poster.post(url, headers, body, this.abort.signal);
      if (this.stopping && result.error === 'delivery stopped') return 'stopped';
      if (result.error === null) {
        // Recorded while the next event goes out: records are written one after another, in log
        // order, so the checkpoint only lags (a crash then means repeats, never a gap).
        this.record({ subscriptionId: this.row.id, event: ref, attempts, status: 'delivered', responseStatus: result.status, error: null, subscriptionStatus: 'active', failingSince: null });
        this.row.status = 'active';
        this.row.failingSince = null;
        this.options.onAttempt?.('delivered');
        return 'delivered';
      }
      const failingSince = this.row.failingSince ?? new Date();
      const disable = Date.now() - failingSince.getTime() >= this.options.settings.disableAfterMs;
      const status: SubscriptionStatus = disable ? 'disabled' : 'failing';
      await this.record({
        subscriptionId: this.row.id,
        event: ref,
        attempts,
        status: disable ? 'failed' : 'retrying',
        responseStatus: result.status,
        error: result.error,
        subscriptionStatus: status,
        failingSince,
      });
      this.row.status = status;
      this.row.failingSince = failingSince;
      this.row.lastError = result.error;
      if (disable) {
        this.options.onAttempt?.('disabled');
        this.logger.warn(`webhook ${this.row.id}: failing since ${failingSince.toISOString()}, disabled (${result.error})`);
        await this.options.events.disabled(this.row.id, failingSince, result.error).catch((error) => this.logger.error(`webhook ${this.row.id}: recording WebhookDisabled: ${String(error)}`));
        this.finished = true;
        return 'disabled';
      }
      this.options.onAttempt?.('failed');
      await this.sleep(backoffMs(attempts, this.options.settings.retryBaseMs, this.options.settings.retryMaxMs));
    }
  }

  private record(outcome: AttemptOutcome): Promise<void> {
    return this.write(() => recordAttempt(this.options.pool, outcome));
  }

  /** Queues a write of the delivery state behind the others (they commit in the order queued). */
  private write(work: () => Promise<void>): Promise<void> {
    if (this.recordFailure) throw this.recordFailure;
    this.recording = this.recording.then(() =>
      work().catch((error) => {
        this.recordFailure ??= error;
      }),
    );
    return this.recording;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.stopping) return resolve();
      const done = () => {
        clearTimeout(timer);
        this.abort.signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.abort.signal.addEventListener('abort', done);
    });
  }
}
