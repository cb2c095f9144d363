import { AllStreamResolvedEvent, BACKWARDS, END, EventStoreDBClient, FORWARDS, ReadPosition, ResolvedEvent, START, StreamNotFoundError, StreamingRead, WrongExpectedVersionError as EsdbWrongExpectedVersionError, jsonEvent } from '@eventstore/db-client';
import { AllSubscription, AppendResult, EventStore, ExpectedRevision, NewEvent, ReadAllOptions, ReadStreamOptions, RecordedEvent, StoreUnavailableError, SubscribeToAllOptions, WrongExpectedVersionError } from './event-store';
import { EsdbAllSubscription } from './eventstoredb-all-subscription';
import { isSystemEvent, isConnectionError, toClientRevision, toRecorded } from './eventstoredb-mapping';

export interface EventStoreDbEventStoreOptions {
  /** How long `ping()` may take before the store counts as unavailable. Default 5000 ms. */
  pingTimeoutMs?: number;
  /** Subscription reconnect back-off: first delay and cap. Defaults 100 ms and 5000 ms. */
  reconnectDelayMs?: { initial: number; max: number };
}

/** How long one call to EventStoreDB may take before the store counts as unavailable (API.md: 503 within 10 s). */
const CALL_TIMEOUT_MS = 6000;

/**
 * The event store on EventStoreDB (production), through `@eventstore/db-client` over gRPC.
 * Positions are $all commit positions; an append of several events gives each its own position.
 */
export class EventStoreDbEventStore implements EventStore {
  readonly kind = 'eventstoredb' as const;
  private readonly client: EventStoreDBClient;
  private readonly subscriptions = new Set<EsdbAllSubscription>();
  private readonly pingTimeoutMs: number;
  private readonly reconnectDelayMs: { initial: number; max: number };
  private closed = false;

  constructor(connectionString: string, options: EventStoreDbEventStoreOptions = {}) {
    this.client = EventStoreDBClient.connectionString(connectionString);
    this.pingTimeoutMs = options.pingTimeoutMs ?? 5000;
    this.reconnectDelayMs = options.reconnectDelayMs ?? { initial: 100, max: 5000 };
  }

  /**
   * An append that gets no answer in `CALL_TIMEOUT_MS` counts as the store unavailable (the
   * client's own deadline is passed too; this also covers its first call on a new channel).
   */
  private bounded<T>(what: string, work: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new StoreUnavailableError('eventStore', new Error(`${what}: no answer within ${CALL_TIMEOUT_MS} ms`))), CALL_TIMEOUT_MS);
    });
    // Whatever the abandoned call ends with, later, must not surface as an unhandled rejection.
    work.catch(() => undefined);
    return Promise.race([work, late]).finally(() => clearTimeout(timer));
  }

  /**
   * Reads a stream of events to its end; `CALL_TIMEOUT_MS` without an event (or the end) counts as
   * the store unavailable. The client's reads have no deadline, and a hung node keeps the connection
   * open: without this a request would wait for the channel's keepalive (20 s and more). A read that
   * is slow but moving is left to finish.
   */
  private drain<T>(what: string, read: StreamingRead<T>): Promise<T[]> {
    return new Promise<T[]>((resolve, reject) => {
      const items: T[] = [];
      let timer: NodeJS.Timeout | undefined;
      const rearm = () => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          void read.cancel().catch(() => undefined);
          reject(new StoreUnavailableError('eventStore', new Error(`${what}: nothing received for ${CALL_TIMEOUT_MS} ms`)));
        }, CALL_TIMEOUT_MS);
      };
      rearm();
      (async () => {
        for await (const item of read) {
          rearm();
          items.push(item);
        }
      })().then(
        () => {
          clearTimeout(timer);
          resolve(items);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
  }

  /** Connection failures become StoreUnavailableError; everything else is rethrown as it is. */
  private mapError(error: unknown): never {
    if (error instanceof StoreUnavailableError) throw error;
    if (isConnectionError(error)) throw new StoreUnavailableError('eventStore', error);
    throw error;
  }

  async appendToStream(stream: string, events: NewEvent[], options: { expectedRevision: ExpectedRevision }): Promise<AppendResult> {
    if (events.length === 0) throw new Error('appendToStream needs at least one event');
    const expected = options.expectedRevision;
    const expectedRevision = toClientRevision(expected);
    try {
      const result = await this.bounded(
        `append to ${stream}`,
        this.client.appendToStream(
          stream,
          events.map((e) => jsonEvent({ id: e.id, type: e.type, data: e.data, metadata: e.metadata })),
          { expectedRevision, deadline: CALL_TIMEOUT_MS },
        ),
      );
      if (!result.position) throw new Error(`EventStoreDB answered the append to ${stream} without a position`);
      return { nextExpectedRevision: Number(result.nextExpectedRevision), position: result.position.commit.toString() };
    } catch (error) {
      if (error instanceof EsdbWrongExpectedVersionError) {
        const actual = error.actualVersion === 'no_stream' ? 'no_stream' : Number(error.actualVersion);
        throw new WrongExpectedVersionError(stream, expected, actual);
      }
      this.mapError(error);
    }
  }

  async readStream(stream: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    const from = options.fromRevision ?? 0;
    const to = options.toRevision;
    if (to !== undefined && to < from) return [];
    try {
      const read = this.client.readStream(stream, {
        fromRevision: BigInt(from),
        direction: FORWARDS,
        ...(to === undefined ? {} : { maxCount: to - from + 1 }),
      });
      return (await this.drain(`read of ${stream}`, read)).map(toRecorded);
    } catch (error) {
      if (error instanceof StreamNotFoundError) return [];
      this.mapError(error);
    }
  }

  /**
   * EventStoreDB cannot look an event up by id, so this reads the stream backwards from its end a
   * page at a time until it meets the id: cheap for a recent event, the whole stream for an absent
   * one. The command executor only asks when a command may be a retry (its id derives from an
   * Idempotency-Key), never for a command with a fresh random id.
   */
  async findEvent(stream: string, eventId: string): Promise<RecordedEvent | null> {
    const pageSize = 500;
    let from: bigint | typeof END = END;
    try {
      for (;;) {
        const read: StreamingRead<ResolvedEvent> = this.client.readStream(stream, { fromRevision: from, direction: BACKWARDS, maxCount: pageSize });
        const page: ResolvedEvent[] = await this.drain(`backwards read of ${stream}`, read);
        for (const resolved of page) if (resolved.event?.id === eventId) return toRecorded(resolved);
        const oldest: bigint | undefined = page[page.length - 1]?.event?.revision;
        if (page.length < pageSize || oldest === undefined || oldest === 0n) return null;
        from = oldest - 1n;
      }
    } catch (error) {
      if (error instanceof StreamNotFoundError) return null;
      this.mapError(error);
    }
  }

  /** One page of $all: every event read is consumed, so no read call is left open. */
  private async readAllPage(fromPosition: ReadPosition, maxCount: number, direction: typeof FORWARDS | typeof BACKWARDS) {
    const read: StreamingRead<AllStreamResolvedEvent> = this.client.readAll({ fromPosition, maxCount, direction });
    return this.drain('read of $all', read);
  }

  /**
   * EventStoreDB reads $all forwards INCLUSIVE of the position (AllReader "TFPos >= pos"), so the
   * event at `fromPosition` itself is skipped here; system events are dropped client-side (the
   * client's readAll takes no filter) and the read goes on until `maxCount` others are found.
   * A port position P is read as $all position (commit P, prepare P): exact for every event written
   * through gRPC (commit = prepare), not for events of legacy TCP explicit transactions.
   */
  async readAll(options: ReadAllOptions): Promise<RecordedEvent[]> {
    const maxCount = options.maxCount;
    if (maxCount <= 0) return [];
    let floor = options.fromPosition === undefined ? -1n : BigInt(options.fromPosition);
    let cursor: ReadPosition = options.fromPosition === undefined ? START : { commit: floor, prepare: floor };
    const events: RecordedEvent[] = [];
    try {
      for (;;) {
        const pageSize = maxCount - events.length + 1;
        const page = await this.readAllPage(cursor, pageSize, FORWARDS);
        for (const resolved of page) {
          const e = resolved.event;
          if (!e?.position || e.position.commit <= floor) continue;
          floor = e.position.commit;
          cursor = e.position;
          if (!isSystemEvent(e.type) && events.length < maxCount) events.push(toRecorded(resolved));
        }
        if (events.length >= maxCount || page.length < pageSize) return events;
      }
    } catch (error) {
      this.mapError(error);
    }
  }

  /** The newest non-system event's position: $all backwards, a page at a time, past system events. */
  async headPosition(): Promise<string | null> {
    const pageSize = 64;
    let cursor: ReadPosition = END;
    try {
      for (;;) {
        const page = await this.readAllPage(cursor, pageSize, BACKWARDS);
        for (const resolved of page) {
          const e = resolved.event;
          if (e?.position && !isSystemEvent(e.type)) return e.position.commit.toString();
        }
        const last = page[page.length - 1]?.event?.position;
        // Reading $all backwards is exclusive of the position (AllReader "TFPos < pos").
        if (page.length < pageSize || !last) return null;
        cursor = last;
      }
    } catch (error) {
      this.mapError(error);
    }
  }

  subscribeToAll(options: SubscribeToAllOptions = {}): AllSubscription {
    if (this.closed) throw new Error('the event store is closed');
    const subscription = new EsdbAllSubscription(this.client, options, this.reconnectDelayMs, (s) => this.subscriptions.delete(s));
    this.subscriptions.add(subscription);
    return subscription;
  }

  async ping(): Promise<void> {
    const read = this.client.readAll({ fromPosition: END, direction: BACKWARDS, maxCount: 1 });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        void read.cancel();
        reject(new StoreUnavailableError('eventStore', new Error(`no answer within ${this.pingTimeoutMs} ms`)));
      }, this.pingTimeoutMs);
    });
    const consume = (async () => {
      for await (const resolved of read) void resolved;
    })();
    try {
      await Promise.race([consume, timeout]);
    } catch (error) {
      this.mapError(error);
    } finally {
      clearTimeout(timer);
      consume.catch(() => undefined); // settled after a timeout: its error is the one already thrown
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subscriptions].map((s) => s.close()));
    await this.client.dispose();
    // dispose() only cancels calls; the gRPC channel (and its socket) stays open until closed.
    const channel = await (this.client as unknown as { getChannel(): Promise<{ close(): void }> }).getChannel();
    channel.close();
  }
}
