import { EventEmitter } from 'node:events';
import { AllSubscription, EventStore, RecordedEvent, StoreUnavailableError, SubscribeToAllOptions } from './event-store';
import { isConnectionError } from './postgres-errors';

/**
 * Reads $all page by page from its position. When it has caught up it waits for a NOTIFY from an
 * append (or a fallback poll). A notified position it cannot see yet (an older transaction is still
 * in flight) is retried quickly until it becomes visible.
 */
export class PostgresAllSubscription implements AllSubscription {
  private closed = false;
  private wake: (() => void) | null = null;
  private readonly onAppended = () => this.wake?.();

  constructor(
    private readonly store: Pick<EventStore, 'readAll'>,
    private readonly appended: EventEmitter,
    private readonly latestNotified: () => bigint,
    private readonly options: SubscribeToAllOptions,
  ) {
    appended.on('appended', this.onAppended);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<RecordedEvent[]> {
    let position = this.options.fromPosition ?? '-1';
    const batchSize = this.options.maxBatchSize ?? 500;
    let errorDelay = 50;
    let pendingDelay = 2;
    try {
      while (!this.closed) {
        let batch: RecordedEvent[];
        try {
          batch = await this.store.readAll({ fromPosition: position, maxCount: batchSize });
          errorDelay = 50;
        } catch (error) {
          if (!(error instanceof StoreUnavailableError) && !isConnectionError(error)) throw error;
          await this.waitFor(errorDelay);
          errorDelay = Math.min(errorDelay * 2, 2000);
          continue;
        }
        if (this.closed) return;
        if (batch.length > 0) {
          position = batch[batch.length - 1].position;
          pendingDelay = 2;
          yield batch;
          continue;
        }
        if (this.latestNotified() > BigInt(position)) {
          await this.waitFor(pendingDelay);
          pendingDelay = Math.min(pendingDelay * 2, 100);
        } else {
          await this.waitFor(1000);
        }
      }
    } finally {
      this.appended.off('appended', this.onAppended);
    }
  }

  private waitFor(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const self = this;
      function done() {
        clearTimeout(timer);
        self.wake = null;
        resolve();
      }
      this.wake = done;
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wake?.();
  }
}
