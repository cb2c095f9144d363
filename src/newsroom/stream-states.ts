import { Logger } from '@nestjs/common';
import { EventStore, RecordedEvent } from '../event-store/event-store';
import { DomainEvent, schemaFingerprint, toDomainEvent } from './event-codec';
import { Snapshot, SnapshotStore } from './snapshots';

export interface Decider<C, E extends DomainEvent, S> {
  decide(command: C, state: S): E[];
  evolve(state: S, event: E): S;
  initialState(): S;
  /** `events.reduce(evolve, state)`, faster; as pure as `evolve` (never changes `state`). */
  evolveAll?(state: S, events: E[]): S;
  /** With `snapshotVersion`, lets the state of its streams be stored as snapshots. */
  readonly name?: string;
  /** Bumped whenever `evolve` or the state's shape changes: a snapshot of another version is ignored. */
  readonly snapshotVersion?: string;
}

/** Folds a stream's events into the decider's state, from its initial state or from `state`. */
export function fold<C, E extends DomainEvent, S>(decider: Decider<C, E, S>, events: RecordedEvent[], state: S = decider.initialState()): S {
  const domain = events.map((event) => toDomainEvent<E>(event));
  return decider.evolveAll ? decider.evolveAll(state, domain) : domain.reduce((s, event) => decider.evolve(s, event), state);
}

/**
 * What a stored snapshot of this decider's state must say it is: the decider's snapshot version and
 * the event schema versions (an upcaster changes what the same stored events fold to). Null: the
 * decider's states are not snapshotted.
 */
export function snapshotVersionOf(decider: { readonly name?: string; readonly snapshotVersion?: string }): string | null {
  if (!decider.name || !decider.snapshotVersion) return null;
  return `${decider.snapshotVersion};${schemaFingerprint()}`;
}

/** A stream's last event, as far as a command needs it: the next event seals its hash; a no-op answers its position. */
export interface StreamHead {
  revision: number;
  id: string;
  position: string;
  /** Null for an event written before the hash chain. */
  hash: string | null;
}

/** A decider's state as the fold of events 0..revision of a stream (revision -1: no events). */
export interface FoldedState<S> {
  state: S;
  revision: number;
  head: StreamHead | null;
}

export const STREAM_STATES_OPTIONS = Symbol('STREAM_STATES_OPTIONS');

/** How long a command waits for a snapshot before folding the log instead. */
const SNAPSHOT_LOAD_TIMEOUT_MS = 2000;

export interface StreamStatesOptions {
  /** A snapshot is stored when a stream has grown by this many events since the last one. Default 200. */
  snapshotEvery?: number;
  /** The in-process cache holds states of streams up to this many events in all (a state weighs its stream's length). Default 200,000. */
  cacheEvents?: number;
  logger?: { warn(message: string): void };
}

const headOf = (event: RecordedEvent): StreamHead => ({
  revision: event.revision,
  id: event.id,
  position: event.position,
  hash: typeof event.metadata.hash === 'string' ? event.metadata.hash : null,
});

const sameHead = (a: StreamHead, b: StreamHead): boolean =>
  a.revision === b.revision && a.id === b.id && a.position === b.position && a.hash === b.hash;

/**
 * Freezes a state and everything in it. States are shared between the cache and every command that
 * loads them; `evolve` never changes the state it is given, and frozen, no caller can either. An
 * object already frozen was frozen whole by an earlier call, so the walk stops there: a state folded
 * from a cached one only walks what the fold replaced.
 */
function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return value;
  Object.freeze(value);
  for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  return value;
}

interface CacheEntry {
  decider: object;
  folded: FoldedState<unknown>;
  /** The revision of the newest snapshot known to be stored (-1: none). */
  snapshotRevision: number;
}

/** Least recently used first; weighed in events, so that a few long streams cannot take all the memory. */
class StateCache {
  private readonly entries = new Map<string, CacheEntry>();
  private weight = 0;

  constructor(private readonly budget: number) {}

  get(stream: string, decider: object): CacheEntry | undefined {
    const entry = this.entries.get(stream);
    if (!entry || entry.decider !== decider) return undefined;
    this.entries.delete(stream);
    this.entries.set(stream, entry);
    return entry;
  }

  put(stream: string, entry: CacheEntry): void {
    const existing = this.entries.get(stream);
    // A concurrent command may already have cached a later state; the older one adds nothing.
    if (existing && existing.decider === entry.decider && existing.folded.revision > entry.folded.revision) return;
    this.delete(stream);
    const weight = entry.folded.revision + 1;
    if (weight > this.budget) return;
    this.entries.set(stream, entry);
    this.weight += weight;
    for (const [oldest] of this.entries) {
      if (this.weight <= this.budget) break;
      this.delete(oldest);
    }
  }

  delete(stream: string): void {
    const entry = this.entries.get(stream);
    if (!entry) return;
    this.entries.delete(stream);
    this.weight -= entry.folded.revision + 1;
  }
}

/**
 * Loads a decider's state of a stream for a command: from the in-process cache, else from a stored
 * snapshot, else from the first event; in every case the events after that base are read from the
 * event store, which stays the authority. The read starts at the base's own last event, and the base
 * is only used when the log still holds exactly that event there (id, position, hash): a snapshot of
 * another incarnation of the stream, or one ahead of it, is dropped and the stream folded from its
 * start. Snapshots are stored off the command's path, and only of states folded this way or advanced
 * by events the store has just appended after exactly that head, so a snapshot is always the fold of
 * exactly events 0..revision of the log.
 */
export class StreamStates {
  private readonly cache: StateCache;
  private readonly snapshotEvery: number;
  private readonly logger: { warn(message: string): void };
  private readonly pending = new Set<Promise<void>>();
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: EventStore,
    private readonly snapshots: SnapshotStore | null,
    options: StreamStatesOptions = {},
  ) {
    this.cache = new StateCache(options.cacheEvents ?? 200_000);
    this.snapshotEvery = Math.max(1, options.snapshotEvery ?? 200);
    this.logger = options.logger ?? new Logger('StreamStates');
  }

  /**
   * The state at the stream's head, or at `toRevision` (time travel): a base is then used only when
   * it lies at or before that revision. Only head states are cached and snapshotted.
   */
  async load<C, E extends DomainEvent, S>(decider: Decider<C, E, S>, stream: string, toRevision?: number): Promise<FoldedState<S>> {
    const version = snapshotVersionOf(decider);
    const usable = (revision: number) => toRevision === undefined || revision <= toRevision;

    const cached = this.cache.get(stream, decider);
    if (cached && usable(cached.folded.revision)) {
      const folded = await this.extend(decider, stream, cached.folded as FoldedState<S>, toRevision);
      if (folded) return this.remember(decider, stream, folded, cached.snapshotRevision, toRevision, version);
      this.cache.delete(stream);
    }

    if (version && this.snapshots) {
      const snapshot = await this.loadSnapshot(stream, decider.name!, version);
      if (snapshot && usable(snapshot.revision)) {
        const base: FoldedState<S> = {
          state: snapshot.state as S,
          revision: snapshot.revision,
          head: { revision: snapshot.revision, id: snapshot.lastEventId, position: snapshot.position, hash: snapshot.lastHash },
        };
        const folded = await this.extend(decider, stream, base, toRevision);
        if (folded) return this.remember(decider, stream, folded, snapshot.revision, toRevision, version);
        this.logger.warn(`snapshot of ${stream} at revision ${snapshot.revision} does not match the event log; discarded`);
        this.background(() => this.snapshots!.discard(snapshot), `discarding the snapshot of ${stream}`);
      }
    }

    const events = await this.store.readStream(stream, toRevision === undefined ? {} : { toRevision });
    const last = events[events.length - 1];
    const folded: FoldedState<S> = { state: fold(decider, events), revision: last ? last.revision : -1, head: last ? headOf(last) : null };
    return this.remember(decider, stream, folded, -1, toRevision, version);
  }

  /**
   * The cached state of the stream's head as this process last saw it, without asking the log; null
   * when none is cached. It may be stale (another process appended since): a caller must only act on
   * it where the log will say so, as an append at its revision does (see CommandExecutor.handle).
   */
  cached<C, E extends DomainEvent, S>(decider: Decider<C, E, S>, stream: string): FoldedState<S> | null {
    const entry = this.cache.get(stream, decider);
    return entry?.folded.head ? (entry.folded as FoldedState<S>) : null;
  }

  /**
   * After `events` were appended at `from`'s revision (the store checked it), the state they lead to
   * is the fold of the log up to `head`: cached (and snapshotted when due) without reading them back.
   */
  advance<C, E extends DomainEvent, S>(decider: Decider<C, E, S>, stream: string, from: FoldedState<S>, events: E[], head: StreamHead): FoldedState<S> {
    const state = decider.evolveAll ? decider.evolveAll(from.state, events) : events.reduce((s, event) => decider.evolve(s, event), from.state);
    const snapshotRevision = this.cache.get(stream, decider)?.snapshotRevision ?? -1;
    return this.remember(decider, stream, { state, revision: head.revision, head }, snapshotRevision, undefined, snapshotVersionOf(decider));
  }

  /** Resolves when the snapshot writes started so far have ended (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  /** The base with the events after it folded on; null when the log no longer holds the base's last event. */
  private async extend<C, E extends DomainEvent, S>(
    decider: Decider<C, E, S>,
    stream: string,
    base: FoldedState<S>,
    toRevision: number | undefined,
  ): Promise<FoldedState<S> | null> {
    if (!base.head) return null;
    const events = await this.store.readStream(stream, { fromRevision: base.revision, ...(toRevision === undefined ? {} : { toRevision }) });
    if (events.length === 0 || !sameHead(headOf(events[0]), base.head)) return null;
    if (events.length === 1) return base;
    const last = events[events.length - 1];
    return { state: fold(decider, events.slice(1), base.state), revision: last.revision, head: headOf(last) };
  }

  private remember<C, E extends DomainEvent, S>(
    decider: Decider<C, E, S>,
    stream: string,
    folded: FoldedState<S>,
    snapshotRevision: number,
    toRevision: number | undefined,
    version: string | null,
  ): FoldedState<S> {
    if (toRevision !== undefined || !folded.head) return folded;
    deepFreeze(folded.state);
    let stored = snapshotRevision;
    if (version && this.snapshots && folded.revision - snapshotRevision >= this.snapshotEvery) {
      const snapshot: Snapshot = {
        streamId: stream,
        decider: decider.name!,
        version,
        revision: folded.revision,
        lastEventId: folded.head.id,
        position: folded.head.position,
        lastHash: folded.head.hash,
        state: folded.state,
      };
      this.background(() => this.snapshots!.save(snapshot), `storing a snapshot of ${stream}`);
      stored = folded.revision;
    }
    this.cache.put(stream, { decider, folded, snapshotRevision: stored });
    return folded;
  }

  /** A snapshot is a cache: when the read store cannot give one, the command folds the log instead. */
  private async loadSnapshot(stream: string, decider: string, version: string): Promise<Snapshot | null> {
    let timer: NodeJS.Timeout | undefined;
    try {
      // Not worth a long wait: a read store that does not answer promptly costs a fold instead.
      const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer in ${SNAPSHOT_LOAD_TIMEOUT_MS} ms`)), SNAPSHOT_LOAD_TIMEOUT_MS)));
      return await Promise.race([this.snapshots!.load(stream, decider, version), late]);
    } catch (error) {
      this.logger.warn(`snapshot of ${stream} not read: ${error instanceof Error ? error.message : String(error)}`);
      return null;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * After the current command has gone on its way; a failure only costs a later fold. One at a time,
   * in the order asked: the discard of a bad snapshot must land before the save of its replacement,
   * which the save's "only a newer revision replaces" rule would otherwise refuse.
   */
  private background(work: () => Promise<void>, what: string): void {
    const done: Promise<void> = this.queue
      .then(() => new Promise<void>((resolve) => setImmediate(resolve)))
      .then(work)
      .catch((error: unknown) => this.logger.warn(`${what} failed: ${error instanceof Error ? error.message : String(error)}`))
      .finally(() => this.pending.delete(done));
    this.pending.add(done);
    this.queue = done;
  }
}
