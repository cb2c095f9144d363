import {
  ANY,
  AccessDeniedError,
  AllStreamResolvedEvent,
  AllStreamSubscription,
  AppendExpectedRevision,
  BACKWARDS,
  CancelledError,
  DeadlineExceededError,
  END,
  EventStoreDBClient,
  FORWARDS,
  NO_STREAM,
  Position,
  ReadPosition,
  ResolvedEvent,
  START,
  STREAM_EXISTS,
  StreamNotFoundError,
  StreamingRead,
  TimeoutError,
  UnavailableError,
  UnknownError,
  WrongExpectedVersionError as EsdbWrongExpectedVersionError,
  excludeSystemEvents,
  isCommandError,
  jsonEvent,
} from '@eventstore/db-client';
import {
  AllSubscription,
  AppendResult,
  EventStore,
  ExpectedRevision,
  JsonObject,
  NewEvent,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  StoreUnavailableError,
  SubscribeToAllOptions,
  WrongExpectedVersionError,
} from './event-store';

export interface EventStoreDbEventStoreOptions {
  /** How long `ping()` may take before the store counts as unavailable. Default 5000 ms. */
  pingTimeoutMs?: number;
  /** Subscription reconnect back-off: first delay and cap. Defaults 100 ms and 5000 ms. */
  reconnectDelayMs?: { initial: number; max: number };
}

/** Position.End / "no position" as the server sends it for a stream read before 22.6 (ulong.MaxValue). */
const NO_POSITION = 18446744073709551615n;
/** gRPC status codes of a connection problem, for errors the client passes on unconverted. */
const CONNECTION_STATUS_CODES = new Set([1 /* CANCELLED */, 4 /* DEADLINE_EXCEEDED */, 14 /* UNAVAILABLE */]);

/** How long one call to EventStoreDB may take before the store counts as unavailable (API.md: 503 within 10 s). */
const CALL_TIMEOUT_MS = 6000;

/** One of the client's CommandErrors (already classified), as opposed to a raw gRPC or other error. */
function fromClient(error: unknown): boolean {
  return error instanceof Error && isCommandError(error);
}

/** System events are those whose type starts with `$` — what the client's `excludeSystemEvents()` filters out. */
function isSystemEvent(type: string): boolean {
  return type.startsWith('$');
}

/**
 * A connection failure, timeout or server-side abort: the operation may or may not have happened.
 * The client converts most gRPC errors into its CommandErrors, but not all: a failure of its
 * ServerFeatures call (the first thing an append does on a new channel) arrives as the raw gRPC
 * ServiceError, e.g. code 14 "No connection established".
 */
export function isConnectionError(error: unknown): boolean {
  if (
    error instanceof UnavailableError ||
    error instanceof DeadlineExceededError ||
    error instanceof CancelledError ||
    error instanceof TimeoutError
  ) {
    return true;
  }
  if (fromClient(error)) return false;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' && CONNECTION_STATUS_CODES.has(code);
}

function toClientRevision(expected: ExpectedRevision): AppendExpectedRevision {
  if (expected === 'no_stream') return NO_STREAM;
  if (expected === 'stream_exists') return STREAM_EXISTS;
  if (expected === 'any') return ANY;
  if (!Number.isSafeInteger(expected) || expected < 0) throw new Error(`invalid expected revision ${String(expected)}`);
  return BigInt(expected);
}

function jsonBody(value: unknown, what: string, eventId: string, streamId: string): JsonObject {
  if (value === undefined) return {};
  let parsed = value;
  if (value instanceof Uint8Array) {
    if (value.length === 0) return {};
    try {
      parsed = JSON.parse(Buffer.from(value).toString('utf8'));
    } catch {
      throw new Error(`event ${eventId} in ${streamId}: ${what} is not JSON`);
    }
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new Error(`event ${eventId} in ${streamId}: ${what} is not a JSON object`);
  }
  return parsed as JsonObject;
}

function toRecorded(resolved: ResolvedEvent | AllStreamResolvedEvent): RecordedEvent {
  const e = resolved.event;
  if (!e) throw new Error('EventStoreDB returned a link without its event');
  const commit = e.position?.commit;
  if (commit === undefined || commit === NO_POSITION) {
    // EventStoreDB fills the $all position of stream reads only since 22.6 (kurrent-io/KurrentDB#3459).
    throw new Error(`event ${e.id} in ${e.streamId} has no $all position: EventStoreDB 22.6 or later is required`);
  }
  return {
    id: e.id,
    streamId: e.streamId,
    type: e.type,
    data: jsonBody(e.data, 'data', e.id, e.streamId),
    metadata: jsonBody(e.metadata, 'metadata', e.id, e.streamId),
    revision: Number(e.revision),
    position: commit.toString(),
    created: e.created,
  };
}

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

/**
 * An `AllSubscription` over the client's catch-up subscription to $all (system events filtered out
 * on the server with `excludeSystemEvents()`). Events are buffered as they arrive; each pull hands
 * over what has accumulated (up to `maxBatchSize`), so batches grow while the consumer is busy.
 * When the subscription drops it resubscribes with back-off from the last event received
 * (exclusive: EventStoreDB skips the event at the start position), never from "end"; events at or
 * below that position are dropped, so nothing is delivered twice.
 */
class EsdbAllSubscription implements AllSubscription {
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

