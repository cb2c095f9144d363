/**
 * The event-store port: the only way the application touches the event log.
 *
 * Semantics follow EventStoreDB's own, so that the Postgres event log (embedded default) and the
 * EventStoreDB adapter (production) are interchangeable and pass one contract suite
 * (`test/event-store/event-store.contract.ts`).
 */

/** A stream revision is 0-based; a number means "the stream's last event is at this revision". */
export type ExpectedRevision = number | 'no_stream' | 'stream_exists' | 'any';

/** JSON-serialisable object. */
export type JsonObject = { [key: string]: unknown };

/** An event to append. `id` is a UUID; appending an id that is already stored is idempotent. */
export interface NewEvent {
  id: string;
  type: string;
  data: JsonObject;
  metadata: JsonObject;
}

/** An event as stored. `position` is its global ($all) commit position, a decimal string. */
export interface RecordedEvent {
  id: string;
  streamId: string;
  type: string;
  data: JsonObject;
  metadata: JsonObject;
  revision: number;
  position: string;
  created: Date;
}

export interface AppendResult {
  /** The revision of the last event now in the stream. */
  nextExpectedRevision: number;
  /** The global commit position of the last event written, decimal string. */
  position: string;
}

export interface ReadStreamOptions {
  /** Inclusive. Default 0. */
  fromRevision?: number;
  /** Inclusive. Default: the end of the stream. */
  toRevision?: number;
}

export interface ReadAllOptions {
  /** Exclusive: events strictly after this position. Default: the start of the log. */
  fromPosition?: string;
  /** How many events at most. */
  maxCount: number;
}

export interface SubscribeToAllOptions {
  /** Exclusive: deliver events strictly after this position. Default: the start of the log. */
  fromPosition?: string;
  /** Largest batch handed to the consumer at once. */
  maxBatchSize?: number;
}

/**
 * A catch-up subscription to $all, consumed as batches in global order (system events excluded).
 * It catches up from `fromPosition`, then goes live; it survives connection loss by resuming from
 * the last position it delivered. `close()` ends the iteration.
 */
export interface AllSubscription extends AsyncIterable<RecordedEvent[]> {
  close(): Promise<void>;
}

export interface AppendOptions {
  expectedRevision: ExpectedRevision;
  /**
   * With a numeric `expectedRevision`: the id the stream's event at that revision must have, or the
   * append fails as a wrong expected version. Postgres checks it in the append's own statement, so a
   * log restored from a backup and grown again to the same revision is not mistaken for the one a
   * cached state was folded from; EventStoreDB checks the revision only.
   */
  expectedLastEventId?: string;
}

export interface EventStore {
  /** Which backend this is, for health and status output. */
  readonly kind: 'postgres' | 'eventstoredb';
  /**
   * Appends atomically. Throws {@link WrongExpectedVersionError} when the stream is not at the
   * expected revision, and {@link StoreUnavailableError} when the store cannot be reached.
   */
  appendToStream(stream: string, events: NewEvent[], options: AppendOptions): Promise<AppendResult>;
  /** Events of one stream in revision order; an unknown stream reads as empty. */
  readStream(stream: string, options?: ReadStreamOptions): Promise<RecordedEvent[]>;
  /**
   * The event with this id if it is in this stream, else null (also when the id is stored in another
   * stream). The command executor asks for a retried command's first event this way. Postgres answers
   * from the unique index on event ids; EventStoreDB has no lookup by id, so its adapter reads the
   * stream backwards from the end: the cost grows with the events after the one sought, and is the
   * whole stream when it is absent.
   */
  findEvent(stream: string, eventId: string): Promise<RecordedEvent | null>;
  /** A page of $all in global order, system events excluded. */
  readAll(options: ReadAllOptions): Promise<RecordedEvent[]>;
  /** The position of the newest event in $all, or null when the log is empty. */
  headPosition(): Promise<string | null>;
  subscribeToAll(options?: SubscribeToAllOptions): AllSubscription;
  /** Cheap round trip; throws {@link StoreUnavailableError} when the store is down. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** The stream was not at the expected revision; nothing was appended. */
export class WrongExpectedVersionError extends Error {
  constructor(
    readonly streamId: string,
    readonly expected: ExpectedRevision,
    /** The stream's actual last revision, or 'no_stream'. */
    readonly actual: number | 'no_stream',
  ) {
    super(`stream ${streamId}: expected revision ${String(expected)}, actual ${String(actual)}`);
    this.name = 'WrongExpectedVersionError';
  }
}

/**
 * The backing store could not be reached, or cannot answer yet; the operation may or may not have been
 * applied. `explanation`, when given, is what the client is told instead of "unreachable".
 */
export class StoreUnavailableError extends Error {
  constructor(
    readonly store: 'eventStore' | 'readStore',
    cause?: unknown,
    readonly explanation?: string,
  ) {
    super(`${store} unavailable${cause instanceof Error ? `: ${cause.message}` : ''}`, { cause });
    this.name = 'StoreUnavailableError';
  }
}

export const EVENT_STORE = Symbol('EVENT_STORE');

/** Compares two decimal position strings as big integers. */
export function comparePositions(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
