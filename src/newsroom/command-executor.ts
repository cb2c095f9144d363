import { BeforeApplicationShutdown, Inject, Injectable, Optional } from '@nestjs/common';
import { EVENT_STORE, EventStore, JsonObject, NewEvent, RecordedEvent, WrongExpectedVersionError } from '../event-store/event-store';
import { Metrics, commandOutcome, secondsSince } from '../metrics/metrics';
import { CommandContext, WriteResult } from './command-context';
import { DomainError } from './domain-error';
import { DomainEvent, schemaVersionOf } from './event-codec';
import { GENESIS_HASH, HASH_VERSION, eventHash } from './hash-chain';
import { uuidV5 } from './ids';
import { DECIDER_SNAPSHOTS, SnapshotStore } from './snapshots';
import { Decider, FoldedState, STREAM_STATES_OPTIONS, StreamStates, StreamStatesOptions } from './stream-states';

export { fold } from './stream-states';
export type { Decider } from './stream-states';

/** The id of a command's `index`-th event in `stream`: the same every time the command is tried. */
export const commandEventId = (commandId: string, stream: string, index: number): string => uuidV5(`${commandId}:${stream}:${index}`);

/**
 * The events a command appends, with their metadata: who and why from the context, and each
 * event's place in its stream's hash chain (it seals the one before it). Ids derive from the
 * command id, so a retried command writes the same ids.
 */
export function sealEvents(
  stream: string,
  last: { revision: number; metadata: { hash?: unknown } } | null,
  decided: DomainEvent[],
  context: CommandContext,
  reason?: string,
): NewEvent[] {
  let previousHash = typeof last?.metadata.hash === 'string' ? last.metadata.hash : GENESIS_HASH;
  const revision = last ? last.revision : -1;
  return decided.map((event, index) => {
    const id = commandEventId(context.commandId, stream, index);
    const metadata: Record<string, unknown> = {
      actor: context.actor,
      commandId: context.commandId,
      correlationId: context.correlationId,
      causationId: context.causationId,
      occurredAt: context.now,
      ...(reason !== undefined ? { reason } : {}),
      schemaVersion: schemaVersionOf(event.type),
      hashVersion: HASH_VERSION,
      previousHash,
    };
    metadata.hash = previousHash = eventHash({ id, streamId: stream, revision: revision + 1 + index, type: event.type, data: event.data, metadata });
    return { id, type: event.type, data: event.data as JsonObject, metadata };
  });
}

/** How often a command without If-Match is re-decided on fresh state after losing a race. */
const MAX_ATTEMPTS = 10;

export const COMMAND_EXECUTOR_OPTIONS = Symbol('COMMAND_EXECUTOR_OPTIONS');

export interface CommandExecutorOptions {
  /** Tries of a command that keeps losing races (without If-Match) before `concurrency-conflict`. Default 10. */
  maxAttempts?: number;
  /** False: read the stream's tail before every command, even when this process's cached state is current. Default true. */
  trustCachedState?: boolean;
}
/** Events read at a time when following a retried command's events past its first. */
const LOOKAHEAD = 16;

/** The reason a command gives (its `data.reason`), recorded in the metadata of every event it appends. */
export function reasonOf(command: unknown): string | undefined {
  const data = (command as { data?: { reason?: unknown } } | null)?.data;
  return typeof data?.reason === 'string' ? data.reason : undefined;
}

/**
 * The one way a command becomes events ({@link CommandExecutor.handle}): load, decide, seal, append,
 * with the replay of an earlier attempt and the retry of a lost race as named steps around them.
 */
@Injectable()
export class CommandExecutor implements BeforeApplicationShutdown {
  private readonly states: StreamStates;
  private readonly maxAttempts: number;
  private readonly trustCache: boolean;

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Optional() @Inject(DECIDER_SNAPSHOTS) snapshots?: SnapshotStore | null,
    @Optional() @Inject(STREAM_STATES_OPTIONS) options?: StreamStatesOptions,
    @Optional() @Inject(COMMAND_EXECUTOR_OPTIONS) executorOptions?: CommandExecutorOptions,
    @Optional() private readonly metrics?: Metrics,
  ) {
    this.states = new StreamStates(store, snapshots ?? null, options);
    this.maxAttempts = Math.max(1, executorOptions?.maxAttempts ?? MAX_ATTEMPTS);
    this.trustCache = executorOptions?.trustCachedState ?? true;
  }

  /** Runs `command` ({@link run}), counting its outcome and duration in `copydesk_commands_total` and `copydesk_command_duration_seconds`. */
  async handle<C, E extends DomainEvent, S>(decider: Decider<C, E, S>, stream: string, command: C, context: CommandContext): Promise<WriteResult> {
    if (!this.metrics?.enabled) return this.run(decider, stream, command, context);
    const started = performance.now();
    const type = (command as { type?: unknown }).type;
    const name = typeof type === 'string' ? type : 'unknown';
    try {
      const result = await this.run(decider, stream, command, context);
      this.metrics.command(name, 'ok', secondsSince(started));
      return result;
    } catch (error) {
      this.metrics.command(name, commandOutcome(error), secondsSince(started));
      throw error;
    }
  }

  /**
   * Runs `command` against `stream`, top to bottom:
   * 1. load: the state. This process's cached state of the stream is taken as it is, without reading
   *    the log: the append below only succeeds at its revision (and, on Postgres, its last event), so a
   *    stale one costs a lost race, not a wrong event. A decision the append would not check (a refusal,
   *    a no-op, an If-Match mismatch) is made again on the state read from the log
   *    ({@link StreamStates.load}: a cached or snapshotted fold plus the events after it).
   * 2. replay: a command whose events are already in the stream (same command id) answers as the first time;
   * 3. If-Match: a client that names another revision than the loaded one gets 412;
   * 4. decide: the decider's events, or its {@link DomainError};
   * 5. seal: metadata and each event's place in the hash chain;
   * 6. append: at the loaded revision; a lost race is re-decided on fresh state (retry), or 412 with If-Match.
   */
  private async run<C, E extends DomainEvent, S>(decider: Decider<C, E, S>, stream: string, command: C, context: CommandContext): Promise<WriteResult> {
    let cached = this.trustCache ? this.states.cached(decider, stream) : null;
    for (let attempt = 1; ; ) {
      const loaded = cached ?? (await this.states.load(decider, stream));
      const trusted = cached !== null;
      cached = null;
      const replayed = await this.replay(stream, context);
      if (replayed) return replayed;
      let decided: E[];
      try {
        if (context.ifMatch !== undefined && context.ifMatch !== loaded.revision) throw new RevisionMismatchError(loaded.revision);
        decided = decider.decide(command, loaded.state);
      } catch (error) {
        if (trusted) continue; // decided on the unread cache: again, on the log's state
        throw error;
      }
      if (decided.length === 0) {
        if (trusted) continue;
        return unchanged(stream, loaded);
      }
      const sealed = sealEvents(stream, loaded.head && { revision: loaded.head.revision, metadata: { hash: loaded.head.hash } }, decided, context, reasonOf(command));
      const appended = await this.append(stream, sealed, loaded, context, trusted ? null : attempt++);
      if (!appended) continue;
      const last = sealed[sealed.length - 1];
      this.states.advance(decider, stream, loaded, decided, { revision: appended.revision, id: last.id, position: appended.position, hash: last.metadata.hash as string });
      return appended;
    }
  }

  /**
   * Step 2. Looked up after the load: if an earlier attempt of this command appends after this point,
   * the append is at a stale revision, fails, and the next attempt finds it. A command id made at random
   * for this request names no earlier attempt, so nothing is looked up.
   */
  private async replay(stream: string, context: CommandContext): Promise<WriteResult | null> {
    if (context.freshCommandId) return null;
    const applied = await this.appliedBefore(stream, context.commandId);
    return applied && { revision: applied.revision, position: applied.position, changed: true, replayed: true };
  }

  /**
   * Step 6. The answer, or null when the command should be tried again on the log's state. `attempt`
   * is null for an append from the unread cache: its failure says only that the cache was stale.
   */
  private async append<S>(stream: string, events: NewEvent[], loaded: FoldedState<S>, context: CommandContext, attempt: number | null): Promise<WriteResult | null> {
    try {
      const head = loaded.head;
      const result = await this.store.appendToStream(stream, events, head ? { expectedRevision: head.revision, expectedLastEventId: head.id } : { expectedRevision: 'no_stream' });
      return { revision: result.nextExpectedRevision, position: result.position, changed: true };
    } catch (error) {
      if (!(error instanceof WrongExpectedVersionError)) throw error;
      if (attempt === null) return null;
      if (context.ifMatch !== undefined) throw new RevisionMismatchError(error.actual === 'no_stream' ? -1 : error.actual);
      if (attempt >= this.maxAttempts) throw new DomainError('concurrency-conflict', `Too many concurrent changes to ${stream}; retry.`);
      // Jitter, so that writers who lost the same race do not collide again in lockstep.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 3 * attempt));
      return null;
    }
  }

  /**
   * The last event an earlier attempt of this command appended to the stream, or null. Its first
   * event's id is known (it derives from the command id), so this is a lookup, not a scan; a command's
   * events are appended together, so the rest follow it.
   */
  private async appliedBefore(stream: string, commandId: string): Promise<RecordedEvent | null> {
    const first = await this.store.findEvent(stream, commandEventId(commandId, stream, 0));
    if (!first) return null;
    let last = first;
    for (;;) {
      const next = await this.store.readStream(stream, { fromRevision: last.revision + 1, toRevision: last.revision + LOOKAHEAD });
      for (const event of next) {
        if (event.id !== commandEventId(commandId, stream, event.revision - first.revision)) return last;
        last = event;
      }
      if (next.length < LOOKAHEAD) return last;
    }
  }

  /** The state of a stream, with the revision it stands at (-1 when empty); at `toRevision` for time travel. */
  async load<C, E extends DomainEvent, S>(decider: Decider<C, E, S>, stream: string, toRevision?: number): Promise<{ state: S; revision: number }> {
    const { state, revision } = await this.states.load(decider, stream, toRevision);
    return { state, revision };
  }

  /** Resolves when the snapshot writes started so far have ended. */
  settled(): Promise<void> {
    return this.states.settled();
  }

  /** Lets snapshot writes in flight finish before the pool they use is closed. */
  beforeApplicationShutdown(): Promise<void> {
    return this.settled();
  }
}

/** The decider found nothing to do: the answer names the stream's head as it is. */
function unchanged<S>(stream: string, loaded: FoldedState<S>): WriteResult {
  if (!loaded.head) throw new Error(`decider returned no events for a new stream ${stream}`);
  return { revision: loaded.revision, position: loaded.head.position, changed: false };
}

/** If-Match named a revision the aggregate has moved past; answered 412. */
export class RevisionMismatchError extends Error {
  constructor(readonly currentRevision: number) {
    super(`The current revision is ${currentRevision}.`);
    this.name = 'RevisionMismatchError';
  }
}
