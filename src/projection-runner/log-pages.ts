import { ProjectedEvent } from '../../projections/projection';
import { EventStore, RecordedEvent } from '../event-store/event-store';
import { toDomainEvent } from '../newsroom/event-codec';

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

/**
 * $all from after `from` (null: the first event) to its end (the first page shorter than `size`),
 * in pages of `size` decoded events.
 * The next page is read while the caller works on the current one, so at most two pages are ever
 * held. `close` ends the iteration and waits for the read in flight, if any.
 */
export class LogPages implements AsyncIterable<ProjectedEvent[]> {
  private closed = false;
  private reading: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly store: EventStore,
    private readonly from: string | null,
    private readonly size: number,
  ) {}

  private read(position: string | null): Promise<ProjectedEvent[]> {
    const page = this.store.readAll({ fromPosition: position ?? undefined, maxCount: this.size }).then((recorded) => recorded.map(toProjectedEvent));
    // Awaited by the iteration, or by close: a failure of a read nobody will look at is not unhandled.
    this.reading = page.catch(() => undefined);
    return page;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<ProjectedEvent[]> {
    if (this.closed) return;
    let next = this.read(this.from);
    try {
      while (!this.closed) {
        const page = await next;
        if (page.length === 0 || this.closed) return;
        // A short page was the end of the log when it was read: the caller catches up from there.
        if (page.length < this.size) {
          yield page;
          return;
        }
        next = this.read(page[page.length - 1].position);
        yield page;
      }
    } finally {
      await this.reading;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.reading;
  }
}

/**
 * The live feed's source: while behind, pages of `catchUpSize` (read one ahead, as a rebuild reads
 * them), then from where they ended the store's subscription, in batches of at most `batchSize`,
 * which goes live. `close` ends either and waits for its read in flight.
 */
export class LiveEvents implements AsyncIterable<ProjectedEvent[]> {
  private closed = false;
  private current: { close(): Promise<void> } | null = null;

  constructor(
    private readonly store: EventStore,
    private readonly from: string | null,
    private readonly catchUpSize: number,
    private readonly batchSize: number,
  ) {}

  async *[Symbol.asyncIterator](): AsyncIterator<ProjectedEvent[]> {
    let position = this.from;
    if (this.catchUpSize > this.batchSize) {
      const pages = new LogPages(this.store, position, this.catchUpSize);
      this.current = pages;
      for await (const page of pages) {
        position = page[page.length - 1].position;
        yield page;
      }
    }
    if (this.closed) return;
    const subscription = this.store.subscribeToAll({ fromPosition: position ?? undefined, maxBatchSize: this.batchSize });
    this.current = subscription;
    try {
      for await (const batch of subscription) yield batch.map(toProjectedEvent);
    } finally {
      await subscription.close();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.current?.close();
  }
}
