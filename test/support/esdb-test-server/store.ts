/**
 * The in-memory transaction log of the EventStoreDB test server: streams, expected-revision checks,
 * idempotency, $all positions, soft delete / tombstone, and the read and filter rules the gRPC layer
 * (`grpc-services.ts`) exposes. No gRPC here, so the rules can be read (and tested) on their own.
 *
 * Every rule names the EventStoreDB source it follows (repository EventStore/EventStore, now
 * kurrent-io/KurrentDB). Where the test server knowingly differs, the comment says so.
 */
import { randomUUID } from 'node:crypto';

/** EventStoreDB's `ExpectedVersion` constants (src/EventStore.Core/Data/ExpectedVersion.cs). */
export const EXPECTED_ANY = -2n;
export const EXPECTED_NO_STREAM = -1n;
export const EXPECTED_STREAM_EXISTS = -4n;
/** `EventNumber.DeletedStream`: the event number of a tombstone and the `$tb` of a soft delete. */
export const DELETED_STREAM = 9223372036854775807n; // long.MaxValue
/** `Position.End` on the wire (ulong.MaxValue). */
export const POSITION_END = 18446744073709551615n;

export type ExpectedVersion = bigint; // a revision >= 0, or one of the EXPECTED_* constants

export interface StoredEvent {
  /** Lower-case canonical UUID, as EventStoreDB's Guid prints it. */
  eventId: string;
  streamId: string;
  /** Event number in its stream; a tombstone has DELETED_STREAM. */
  revision: bigint;
  type: string;
  isJson: boolean;
  data: Buffer;
  metadata: Buffer;
  /** .NET ticks (100 ns) since the Unix epoch, as the `created` metadata carries them. */
  createdTicks: bigint;
  /**
   * Log position of the event's prepare record. An event appended through gRPC is an `IsCommitted`
   * prepare, so its $all position is (commit = prepare = this log position).
   */
  logPosition: bigint;
  /** Position just after the record (`RecordPostPosition`). */
  postPosition: bigint;
}

export interface ProposedEvent {
  eventId: string;
  type: string;
  isJson: boolean;
  data: Buffer;
  metadata: Buffer;
}

export interface TfPos {
  commit: bigint;
  prepare: bigint;
}

export type AppendOutcome =
  | { kind: 'success'; currentRevision: bigint /* -1 = no stream */; position: TfPos; written: StoredEvent[] }
  | { kind: 'wrong_expected_version'; currentRevision: bigint /* -1 = no stream */ }
  | { kind: 'stream_deleted' };

export type DeleteOutcome =
  | { kind: 'success'; position: TfPos }
  | { kind: 'wrong_expected_version'; currentRevision: bigint }
  | { kind: 'stream_deleted' };

export type StreamReadResult =
  | { kind: 'success'; events: StoredEvent[] }
  | { kind: 'no_stream' }
  | { kind: 'stream_deleted' };

export interface EventFilter {
  on: 'event_type' | 'stream_name';
  regex?: RegExp;
  prefixes?: string[];
}

interface StreamState {
  name: string;
  /** Data events by event number (index = revision). */
  events: StoredEvent[];
  ids: Map<string, StoredEvent>;
  tombstoned: boolean;
}

/** Rough LogV2 prepare-record size (header, ids, timestamps, length prefix/suffix) plus the payload. */
function recordSize(streamId: string, type: string, data: Buffer, metadata: Buffer): bigint {
  return BigInt(8 + 82 + Buffer.byteLength(streamId) + 1 + Buffer.byteLength(type) + 1 + data.length + metadata.length);
}

/** TFPos ordering: commit position first, then prepare position (src/EventStore.Core/Data/TFPos.cs). */
export function comparePos(a: TfPos, b: TfPos): number {
  if (a.commit !== b.commit) return a.commit < b.commit ? -1 : 1;
  if (a.prepare !== b.prepare) return a.prepare < b.prepare ? -1 : 1;
  return 0;
}

export function positionOf(event: StoredEvent): TfPos {
  return { commit: event.logPosition, prepare: event.logPosition };
}

/** System streams start with `$` (SystemStreams.IsSystemStream). */
export function isSystemStream(streamId: string): boolean {
  return streamId.startsWith('$');
}

export function metastreamOf(streamId: string): string {
  return `$$${streamId}`;
}

/**
 * Event filters as EventStoreDB builds them from `FilterOptions` (Streams.Read.cs ConvertToEventFilter,
 * src/EventStore.Core/Services/Storage/ReaderIndex/EventFilter.cs): a regex (searched, not anchored,
 * like .NET `Regex.IsMatch`) when one is given, else "starts with any of the prefixes".
 */
export function matchesFilter(filter: EventFilter | undefined, event: StoredEvent): boolean {
  if (!filter) return true;
  const subject = filter.on === 'event_type' ? event.type : event.streamId;
  if (filter.regex) return filter.regex.test(subject);
  return (filter.prefixes ?? []).some((prefix) => subject.startsWith(prefix));
}

/**
 * The whole database. Pass the same instance to a restarted server to keep the data across an
 * "outage" (`startEsdbTestServer({ port, store })`).
 */
export class EsdbMemoryStore {
  /** $all in log order (append-only; deletes are log entries too). */
  readonly log: StoredEvent[] = [];
  private readonly streams = new Map<string, StreamState>();
  private nextLogPosition = 0n;
  private epochNumber = -1;
  private readonly listeners = new Set<() => void>();

  /** Called after every write; subscriptions pull from `log` themselves. */
  onWrite(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }

  /**
   * What a node does when it becomes leader: it writes a new epoch record and, since 21.10, an
   * `$epoch-information` event to the `$epoch-information` stream (EpochManager;
   * src/EventStore.Core/Services/SystemStreams.cs `EpochInformationStream`). So every (re)start
   * puts a system event into $all, which `excludeSystemEvents()` must filter out.
   */
  writeEpoch(): void {
    this.epochNumber += 1;
    this.nextLogPosition += 128n; // the epoch (system) record itself, not an event
    const data = Buffer.from(JSON.stringify({ epochNumber: this.epochNumber, epochId: randomUUID(), leaderInstanceId: randomUUID() }));
    this.write('$epoch-information', [{ eventId: randomUUID(), type: '$epoch-information', isJson: true, data, metadata: Buffer.alloc(0) }], undefined);
    this.notify();
  }

  private stream(name: string): StreamState | undefined {
    return this.streams.get(name);
  }

  /** `GetStreamLastEventNumber`: -1 when the stream has no events. */
  lastEventNumber(name: string): bigint {
    const s = this.stream(name);
    if (!s) return -1n;
    return BigInt(s.events.length) - 1n;
  }

  /** `$tb` of the stream's metadata (last `$metadata` event in `$$stream`), if any. */
  private truncateBefore(name: string): bigint | undefined {
    const meta = this.stream(metastreamOf(name));
    const last = meta?.events[meta.events.length - 1];
    if (!last) return undefined;
    // Read the number from the raw JSON: `$tb` may be long.MaxValue, beyond a double's precision.
    const match = /"\$tb"\s*:\s*(-?\d+)/.exec(last.data.toString('utf8'));
    return match ? BigInt(match[1]) : undefined;
  }

  /** Soft-deleted = metadata `$tb` is `EventNumber.DeletedStream` (IndexWriter.IsSoftDeleted). */
  isSoftDeleted(name: string): boolean {
    return this.truncateBefore(name) === DELETED_STREAM;
  }

  /** Appends the records and returns them; caller notifies. */
  private write(streamId: string, events: ProposedEvent[], tombstone: 'tombstone' | undefined): StoredEvent[] {
    let s = this.streams.get(streamId);
    if (!s) {
      s = { name: streamId, events: [], ids: new Map(), tombstoned: false };
      this.streams.set(streamId, s);
    }
    const now = BigInt(Date.now()) * 10000n;
    const written: StoredEvent[] = [];
    for (const proposed of events) {
      const size = recordSize(streamId, proposed.type, proposed.data, proposed.metadata);
      const stored: StoredEvent = {
        ...proposed,
        streamId,
        revision: tombstone ? DELETED_STREAM : BigInt(s.events.length),
        createdTicks: now,
        logPosition: this.nextLogPosition,
        postPosition: this.nextLogPosition + size,
      };
      this.nextLogPosition += size;
      this.log.push(stored);
      if (tombstone) s.tombstoned = true;
      else {
        s.events.push(stored);
        s.ids.set(stored.eventId, stored);
      }
      written.push(stored);
    }
    return written;
  }

  /**
   * The commit check of an append (IndexWriter.CheckCommit, src/EventStore.Core/Services/Storage/
   * ReaderIndex/IndexWriter.cs), including EventStoreDB's idempotency on event ids:
   * - tombstoned stream → Deleted;
   * - stream_exists: a soft-deleted stream → Deleted; no events and no metadata → WrongExpectedVersion;
   * - any / stream_exists: every id already in this stream → Idempotent (answers with the revision
   *   and position of the last of them); the first id unknown → Ok; a later one unknown → corrupted
   *   idempotency, answered as WrongExpectedVersion. (EventStoreDB keeps the ids in a bounded cache,
   *   so for `any` its idempotency is best effort; here it is exact.)
   * - a revision (or no_stream = -1) below the current one: the events from expected+1 on must carry
   *   the same ids → Idempotent; the first differing → WrongExpectedVersion (or Ok for no_stream on a
   *   soft-deleted stream); a later one → corrupted idempotency → WrongExpectedVersion;
   * - above the current one → WrongExpectedVersion; equal → Ok.
   * Documented in docs "Optimistic concurrency and idempotence" (EventStore/documentation,
   * docs/clients/dotnet/21.2/appending/optimistic-concurrency-and-idempotence.md).
   */
  private checkCommit(
    name: string,
    expected: ExpectedVersion,
    ids: string[],
  ):
    | { decision: 'ok'; current: bigint; softDeleted: boolean }
    | { decision: 'idempotent'; current: bigint; last: StoredEvent | undefined; lastRevision: bigint }
    | { decision: 'wrong_expected_version'; current: bigint }
    | { decision: 'deleted' } {
    const s = this.stream(name);
    const current = this.lastEventNumber(name);
    if (s?.tombstoned) return { decision: 'deleted' };
    const softDeleted = this.isSoftDeleted(name);

    if (expected === EXPECTED_STREAM_EXISTS) {
      if (softDeleted) return { decision: 'deleted' };
      if (current < 0n && this.lastEventNumber(metastreamOf(name)) < 0n) return { decision: 'wrong_expected_version', current };
    }

    if (expected === EXPECTED_ANY || expected === EXPECTED_STREAM_EXISTS) {
      let first = true;
      let last: StoredEvent | undefined;
      for (const id of ids) {
        const found = s?.ids.get(id);
        if (!found) {
          return first ? { decision: 'ok', current, softDeleted } : { decision: 'wrong_expected_version', current };
        }
        last = found;
        first = false;
      }
      if (first) return { decision: 'ok', current, softDeleted }; // no data in the write
      return { decision: 'idempotent', current, last, lastRevision: last!.revision };
    }

    if (expected < current) {
      let eventNumber = expected;
      let last: StoredEvent | undefined;
      for (const id of ids) {
        eventNumber += 1n;
        const at = s?.events[Number(eventNumber)];
        if (at && at.eventId === id) {
          last = at;
          continue;
        }
        const isFirst = eventNumber === expected + 1n;
        if (!isFirst) return { decision: 'wrong_expected_version', current }; // corrupted idempotency
        if (expected === EXPECTED_NO_STREAM && softDeleted) return { decision: 'ok', current, softDeleted };
        return { decision: 'wrong_expected_version', current };
      }
      if (eventNumber === expected) return { decision: 'wrong_expected_version', current }; // no data
      return { decision: 'idempotent', current, last, lastRevision: eventNumber };
    }

    if (expected > current) return { decision: 'wrong_expected_version', current };
    return { decision: 'ok', current, softDeleted };
  }

  /**
   * An append (StorageWriterService WritePrepares, src/EventStore.Core/Services/Storage/
   * StorageWriterService.cs): each event becomes its own prepare record with `IsCommitted`, sharing
   * the transaction position of the first; so every event of one append gets its own, growing
   * $all position with commit = prepare = its log position (AllReader "commit-alike" prepares,
   * src/EventStore.Core/Services/Storage/ReaderIndex/AllReader.cs). The answer carries the position of
   * the LAST event for both commit and prepare (StorageChaser sends CommitAck with the TransactionEnd
   * prepare's LogPosition; RequestManager/Managers/WriteEvents.cs replies CommitPosition twice).
   * Empty appends write one data-less prepare (not visible in reads) and answer the current revision.
   */
  append(name: string, expected: ExpectedVersion, events: ProposedEvent[]): AppendOutcome {
    const check = this.checkCommit(
      name,
      expected,
      events.map((e) => e.eventId),
    );
    switch (check.decision) {
      case 'deleted':
        return { kind: 'stream_deleted' };
      case 'wrong_expected_version':
        return { kind: 'wrong_expected_version', currentRevision: check.current };
      case 'idempotent': {
        // StorageMessage.AlreadyCommitted → RequestManagerBase.ReturnCommitAt(IdempotentLogPosition,
        // first, last): the revision and position of the last already-written event; nothing is written.
        const pos = check.last ? check.last.logPosition : -1n;
        return { kind: 'success', currentRevision: check.lastRevision, position: { commit: pos, prepare: pos }, written: [] };
      }
      case 'ok': {
        if (events.length === 0) {
          const pos = this.nextLogPosition;
          this.nextLogPosition += 64n; // the empty prepare record
          return { kind: 'success', currentRevision: check.current, position: { commit: pos, prepare: pos }, written: [] };
        }
        const written = this.write(name, events, undefined);
        // Soft-deleted streams are recreated: StorageWriterService.SoftUndeleteStream rewrites the
        // metadata with `$tb` = the first new event number.
        if (check.softDeleted) this.softUndelete(name, check.current + 1n);
        this.notify();
        const last = written[written.length - 1];
        return { kind: 'success', currentRevision: last.revision, position: positionOf(last), written };
      }
    }
  }

  private softUndelete(name: string, recreateFrom: bigint): void {
    const meta = this.stream(metastreamOf(name));
    let json: Record<string, unknown> = {};
    const last = meta?.events[meta.events.length - 1];
    if (last) {
      try {
        json = JSON.parse(last.data.toString('utf8')) as Record<string, unknown>;
      } catch {
        json = {};
      }
    }
    json.$tb = Number(recreateFrom);
    this.write(
      metastreamOf(name),
      [{ eventId: randomUUID(), type: '$metadata', isJson: true, data: Buffer.from(JSON.stringify(json)), metadata: Buffer.alloc(0) }],
      undefined,
    );
  }

  /**
   * Soft delete (`Streams.Delete`, StorageWriterService WriteDelete without HardDelete): the commit
   * check with a fresh id, then a stream that has neither events nor metadata → WrongExpectedVersion;
   * else a `$metadata` event `{"$tb": long.MaxValue}` in `$$stream`, whose position is the answer.
   */
  softDelete(name: string, expected: ExpectedVersion): DeleteOutcome {
    const check = this.checkCommit(name, expected, [randomUUID()]);
    if (check.decision === 'deleted') return { kind: 'stream_deleted' };
    if (check.decision !== 'ok') return { kind: 'wrong_expected_version', currentRevision: check.current };
    if (this.lastEventNumber(name) < 0n && this.lastEventNumber(metastreamOf(name)) < 0n) {
      return { kind: 'wrong_expected_version', currentRevision: -1n };
    }
    const data = Buffer.from(`{"$tb":${DELETED_STREAM}}`);
    const [written] = this.write(
      metastreamOf(name),
      [{ eventId: randomUUID(), type: '$metadata', isJson: true, data, metadata: Buffer.alloc(0) }],
      undefined,
    );
    this.notify();
    return { kind: 'success', position: positionOf(written) };
  }

  /**
   * Tombstone (`Streams.Tombstone`, WriteDelete with HardDelete): a `$streamDeleted` record in the
   * stream itself with event number `EventNumber.DeletedStream`; afterwards reads and appends of the
   * stream fail with StreamDeleted.
   */
  tombstone(name: string, expected: ExpectedVersion): DeleteOutcome {
    const check = this.checkCommit(name, expected, [randomUUID()]);
    if (check.decision === 'deleted') return { kind: 'stream_deleted' };
    if (check.decision !== 'ok') return { kind: 'wrong_expected_version', currentRevision: check.current };
    const [written] = this.write(
      name,
      [{ eventId: randomUUID(), type: '$streamDeleted', isJson: true, data: Buffer.alloc(0), metadata: Buffer.alloc(0) }],
      'tombstone',
    );
    this.notify();
    return { kind: 'success', position: positionOf(written) };
  }

  /** Whether a stream read answers NoStream (none, soft-deleted) / StreamDeleted / its visible events. */
  private visibleEvents(name: string): StreamReadResult {
    const s = this.stream(name);
    if (s?.tombstoned) return { kind: 'stream_deleted' };
    if (!s || s.events.length === 0) return { kind: 'no_stream' };
    const tb = this.truncateBefore(name);
    if (tb === DELETED_STREAM) return { kind: 'no_stream' };
    return { kind: 'success', events: tb === undefined ? s.events : s.events.filter((e) => e.revision >= tb) };
  }

  /**
   * ReadStreamEventsForward: events with revision >= from, at most `count`; a stream with no events
   * (or soft-deleted) is NoStream; an existing stream read past its end is an empty success
   * (Enumerator.ReadStreamForwards.cs).
   */
  readStreamForwards(name: string, from: bigint, count: bigint): StreamReadResult {
    const visible = this.visibleEvents(name);
    if (visible.kind !== 'success') return visible;
    const out: StoredEvent[] = [];
    for (const e of visible.events) {
      if (BigInt(out.length) >= count) break;
      if (e.revision >= from) out.push(e);
    }
    return { kind: 'success', events: out };
  }

  /** ReadStreamEventsBackward: events with revision <= from (END = the last), newest first. */
  readStreamBackwards(name: string, from: bigint | 'end', count: bigint): StreamReadResult {
    const visible = this.visibleEvents(name);
    if (visible.kind !== 'success') return visible;
    const out: StoredEvent[] = [];
    for (let i = visible.events.length - 1; i >= 0; i--) {
      if (BigInt(out.length) >= count) break;
      const e = visible.events[i];
      if (from === 'end' || e.revision <= from) out.push(e);
    }
    return { kind: 'success', events: out };
  }

  /** Stream state for subscriptions: tombstoned, not found (incl. soft-deleted), or its visible events. */
  streamView(name: string): StreamReadResult {
    return this.visibleEvents(name);
  }

  /**
   * ReadAllEventsForward: records whose TFPos (commit = prepare = log position here) is >= the given
   * position — inclusive (AllReader.ReadAllEventsForwardInternal).
   */
  indexOfFirstAtOrAfter(pos: TfPos): number {
    let lo = 0;
    let hi = this.log.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (comparePos(positionOf(this.log[mid]), pos) >= 0) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /**
   * ReadAllEventsBackward: records whose TFPos is strictly below the given position — exclusive
   * (AllReader.ReadAllEventsBackwardInternal, "< pos"); from END: everything.
   */
  indexOfLastBefore(pos: TfPos | 'end'): number {
    if (pos === 'end') return this.log.length - 1;
    return this.indexOfFirstAtOrAfter(pos) - 1;
  }

  /** Log position the next record will get (for tests and the CLI banner). */
  get headLogPosition(): bigint {
    return this.nextLogPosition;
  }
}
