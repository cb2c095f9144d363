import { AccessDeniedError, AllStreamResolvedEvent, AllStreamSubscription, EventStoreDBClient, Position, START, UnknownError, excludeSystemEvents } from '@eventstore/db-client';
import { AllSubscription, RecordedEvent, SubscribeToAllOptions } from './event-store';
import { fromClient, isConnectionError, isSystemEvent, toRecorded } from './eventstoredb-mapping';

/**
 * An `AllSubscription` over the client's catch-up subscription to $all (system events filtered out
 * on the server with `excludeSystemEvents()`). Events are buffered as they arrive; each pull hands
 * over what has accumulated (up to `maxBatchSize`), so batches grow while the consumer is busy.
 * When the subscription drops it resubscribes with back-off from the last event received
 * (exclusive: EventStoreDB skips the event at the start position), never from "end"; events at or
 * below that position are dropped, so nothing is delivered twice.
 */
export class EsdbAllSubscription implements AllSubscription {
  private readonly maxBatchSize: number;
  private readonly highWater: number;
  private buffer: RecordedEvent[] = [];
  /** Position of the last event received (buffered or delivered): where a resubscription starts. */
  private resumeFrom: Position | undefined;
  private floor: bigint;
  private subscription: AllStreamSubscription | undefined;
  private paused = false;
  private attempt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private failure: unknown;
  private closed = false;
  private waiters: Array<() => void> = [];

  constructor(
    private readonly client: EventStoreDBClient,
    options: SubscribeToAllOptions,
    private readonly delays: { initial: number; max: number },
    private readonly onClosed: (s: EsdbAllSubscription) => void,
  ) {
    this.maxBatchSize = Math.max(1, options.maxBatchSize ?? 100);
    this.highWater = Math.max(2 * this.maxBatchSize, 256);
    if (options.fromPosition !== undefined) {
      const p = BigInt(options.fromPosition);
      this.resumeFrom = { commit: p, prepare: p };
      this.floor = p;
    } else {
      this.floor = -1n;
    }
    this.subscribe();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  private subscribe(): void {
    if (this.closed) return;
    let subscription: AllStreamSubscription;
    try {
      subscription = this.client.subscribeToAll({ fromPosition: this.resumeFrom ?? START, filter: excludeSystemEvents() });
    } catch (error) {
      this.fail(error);
      return;
    }
    this.subscription = subscription;
    this.paused = false;
    subscription.on('confirmation', () => {
      this.attempt = 0;
    });
    subscription.on('data', (resolved: AllStreamResolvedEvent) => {
      if (this.subscription !== subscription || this.closed) return;
      const e = resolved.event;
      if (!e?.position || e.position.commit <= this.floor) return;
      this.floor = e.position.commit;
      this.resumeFrom = e.position;
      if (isSystemEvent(e.type)) return;
      try {
        this.buffer.push(toRecorded(resolved));
      } catch (error) {
        this.fail(error);
        return;
      }
      if (this.buffer.length >= this.highWater && !this.paused) {
        this.paused = true;
        subscription.pause();
      }
      this.wake();
    });
    subscription.on('error', (error: unknown) => this.dropped(subscription, error));
    subscription.on('end', () => this.dropped(subscription, undefined));
  }

  /** The subscription ended or failed: retry connection problems with back-off, surface the rest. */
  private dropped(subscription: AllStreamSubscription, error: unknown): void {
    if (this.subscription !== subscription || this.closed) return;
    this.subscription = undefined;
    void subscription.unsubscribe().catch(() => undefined);
    if (error !== undefined && !isRetryable(error)) {
      this.fail(error);
      return;
    }
    const delay = Math.min(this.delays.max, this.delays.initial * 2 ** this.attempt);
    this.attempt++;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.subscribe();
    }, delay);
  }

  private fail(error: unknown): void {
    if (this.closed || this.failure !== undefined) return;
    this.failure = error instanceof Error ? error : new Error(String(error));
    const subscription = this.subscription;
    this.subscription = undefined;
    if (subscription) void subscription.unsubscribe().catch(() => undefined);
    this.wake();
  }

  private take(): RecordedEvent[] {
    const batch = this.buffer.splice(0, this.maxBatchSize);
    if (this.paused && this.buffer.length < this.highWater / 2) {
      this.paused = false;
      this.subscription?.resume();
    }
    return batch;
  }

  [Symbol.asyncIterator](): AsyncIterator<RecordedEvent[]> {
    return {
      next: async (): Promise<IteratorResult<RecordedEvent[]>> => {
        for (;;) {
          if (this.closed) return { done: true, value: undefined };
          if (this.buffer.length > 0) return { done: false, value: this.take() };
          if (this.failure !== undefined) {
            const failure = this.failure;
            await this.close();
            throw failure;
          }
          await new Promise<void>((resolve) => this.waiters.push(resolve));
        }
      },
      return: async (): Promise<IteratorResult<RecordedEvent[]>> => {
        await this.close();
        return { done: true, value: undefined };
      },
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.buffer = [];
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const subscription = this.subscription;
    this.subscription = undefined;
    this.wake();
    this.onClosed(this);
    if (subscription) await subscription.unsubscribe();
  }
}

/** Worth resubscribing for: connection problems, server-side aborts ("consumer too slow"), unknown server errors. */
function isRetryable(error: unknown): boolean {
  if (error instanceof AccessDeniedError) return false;
  if (isConnectionError(error) || error instanceof UnknownError) return true;
  const code = (error as { code?: unknown } | null)?.code;
  return !fromClient(error) && typeof code === 'number' && code !== 7 /* PERMISSION_DENIED */ && code !== 3; /* INVALID_ARGUMENT */
}
