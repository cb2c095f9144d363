import { BeforeApplicationShutdown, Inject, Injectable, Optional } from '@nestjs/common';
import { EVENT_STORE, EventStore, JsonObject, NewEvent, RecordedEvent, WrongExpectedVersionError } from '../event-store/event-store';
import { Metrics, commandOutcome, secondsSince } from '../metrics/metrics';
import { CommandContext, WriteResult } from './command-context';
import { DomainError } from './domain-error';
import { DomainEvent, schemaVersionOf } from './event-codec';
import { GENESIS_HASH, HASH_VERSION, eventHash } from './hash-chain';
import { uuidV5 } from './ids';
import { DECIDER_SNAPSHOTS, SnapshotStore } from './snapshots';
import { Decider, STREAM_STATES_OPTIONS, StreamStates, StreamStatesOptions } from './stream-states';

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
  /** Tries of a command that keeps losing races (without If-Match) before 409 `concurrency-conflict`. Default 10. */
  maxAttempts?: number;
}
/** Events read at a time when following a retried command's events past its first. */
const LOOKAHEAD = 16;

/**
 * The one way a command becomes events: load the state (see {@link StreamStates}: a cached or
 * snapshotted fold plus the events after it, read from the log), decide, append at the revision that
 * was loaded. A lost race is re-decided on fresh state (or answered 412 when the client sent
 * If-Match); a command whose events are already in the stream (same command id) answers as it did
 * the first time.
 */
@Injectable()
export class CommandExecutor implements BeforeApplicationShutdown {
  private readonly states: StreamStates;
  private readonly maxAttempts: number;

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Optional() @Inject(DECIDER_SNAPSHOTS) snapshots?: SnapshotStore | null,
    @Optional() @Inject(STREAM_STATES_OPTIONS) options?: StreamStatesOptions,
    @Optional() @Inject(COMMAND_EXECUTOR_OPTIONS) executorOptions?: CommandExecutorOptions,
    @Optional() private readonly metrics?: Metrics,
  ) {
    this.states = new StreamStates(store, snapshots ?? null, options);
    this.maxAttempts = Math.max(1, executorOptions?.maxAttempts ?? MAX_ATTEMPTS);
  }

  /** Executes the command, counting its outcome and duration in `copydesk_commands_total` and `copydesk_command_duration_seconds`. */
  async execute<C, E extends DomainEvent, S>(
    decider: Decider<C, E, S>,
    stream: string,
    aggregateId: string,
    context: CommandContext,
    command: (state: S) => C,
    options: { reason?: string; created?: Record<string, string> } = {},
  ): Promise<WriteResult> {
    if (!this.metrics?.enabled) return this.run(decider, stream, aggregateId, context, command, options);
    const started = performance.now();
    // The command's `type` once it is built; one that fails before (its stream could not be read) counts as `unknown`.
    let name = 'unknown';
    const named = (state: S) => {
      const built = command(state);
      const type = (built as { type?: unknown }).type;
      if (typeof type === 'string') name = type;
      return built;
    };
    try {
      const result = await this.run(decider, stream, aggregateId, context, named, options);
      this.metrics.command(name, 'ok', secondsSince(started));
      return result;
    } catch (error) {
      this.metrics.command(name, commandOutcome(error), secondsSince(started));
      throw error;
    }
  }

  private async run<C, E extends DomainEvent, S>(
    decider: Decider<C, E, S>,
    stream: string,
    aggregateId: string,
    context: CommandContext,
    command: (state: S) => C,
    options: { reason?: string; created?: Record<string, string> },
  ): Promise<WriteResult> {
    for (let attempt = 1; ; attempt++) {
      const { state, revision, head } = await this.states.load(decider, stream);
      const built = command(state);
      // Looked up after the load: if an earlier attempt of this command appends after this point, the
      // append below is at a stale revision, fails, and the next attempt finds it.
      const applied = context.freshCommandId ? null : await this.appliedBefore(stream, context.commandId);
      if (applied) return { id: aggregateId, revision: applied.revision, position: applied.position, changed: true, created: options.created, replayed: true };
      if (context.ifMatch !== undefined && context.ifMatch !== revision) throw preconditionFailed(revision);
      const decided = decider.decide(built, state);
      if (decided.length === 0) {
        if (!head) throw new Error(`decider returned no events for a new stream ${stream}`);
        return { id: aggregateId, revision, position: head.position, changed: false };
      }
      try {
        const last = head ? { revision: head.revision, metadata: { hash: head.hash } } : null;
        const newEvents = sealEvents(stream, last, decided, context, options.reason);
        const result = await this.store.appendToStream(stream, newEvents, { expectedRevision: head ? head.revision : 'no_stream' });
        return { id: aggregateId, revision: result.nextExpectedRevision, position: result.position, changed: true, created: options.created };
      } catch (error) {
        if (!(error instanceof WrongExpectedVersionError)) throw error;
        if (context.ifMatch !== undefined) throw preconditionFailed(error.actual === 'no_stream' ? -1 : error.actual);
        if (attempt >= this.maxAttempts)
          throw new DomainError('concurrency-conflict', 409, `Too many concurrent changes to ${stream}; retry.`);
        // Jitter, so that writers who lost the same race do not collide again in lockstep.
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 3 * attempt));
      }
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

/** If-Match named a revision the aggregate has moved past; answered 412. */
export class RevisionMismatchError extends Error {
  constructor(readonly currentRevision: number) {
    super(`The current revision is ${currentRevision}.`);
    this.name = 'RevisionMismatchError';
  }
}

function preconditionFailed(current: number): RevisionMismatchError {
  return new RevisionMismatchError(current);
}
