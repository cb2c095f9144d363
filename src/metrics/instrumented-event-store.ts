import { AllSubscription, AppendResult, EventStore, ExpectedRevision, NewEvent, ReadAllOptions, ReadStreamOptions, RecordedEvent, SubscribeToAllOptions } from '../event-store/event-store';
import { Metrics, secondsSince } from './metrics';

/**
 * The event-store port with its appends timed into `copydesk_event_store_append_duration_seconds`
 * (failed appends too: a refused or timed-out append took that long). Everything else is passed on as it is,
 * so both adapters are measured alike without either knowing.
 */
export class InstrumentedEventStore implements EventStore {
  constructor(
    private readonly store: EventStore,
    private readonly metrics: Metrics,
  ) {}

  get kind(): EventStore['kind'] {
    return this.store.kind;
  }

  async appendToStream(stream: string, events: NewEvent[], options: { expectedRevision: ExpectedRevision }): Promise<AppendResult> {
    const started = performance.now();
    try {
      return await this.store.appendToStream(stream, events, options);
    } finally {
      this.metrics.append(this.store.kind, secondsSince(started));
    }
  }

  readStream(stream: string, options?: ReadStreamOptions): Promise<RecordedEvent[]> {
    return this.store.readStream(stream, options);
  }

  findEvent(stream: string, eventId: string): Promise<RecordedEvent | null> {
    return this.store.findEvent(stream, eventId);
  }

  readAll(options: ReadAllOptions): Promise<RecordedEvent[]> {
    return this.store.readAll(options);
  }

  headPosition(): Promise<string | null> {
    return this.store.headPosition();
  }

  subscribeToAll(options?: SubscribeToAllOptions): AllSubscription {
    return this.store.subscribeToAll(options);
  }

  ping(): Promise<void> {
    return this.store.ping();
  }

  close(): Promise<void> {
    return this.store.close();
  }
}

/** The store as the application should use it: timed when metrics are on, else itself. */
export function instrumentEventStore(store: EventStore, metrics: Metrics): EventStore {
  return metrics.enabled ? new InstrumentedEventStore(store, metrics) : store;
}
