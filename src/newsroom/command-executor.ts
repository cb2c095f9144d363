import { Inject, Injectable } from '@nestjs/common';
import { EVENT_STORE, EventStore, JsonObject, NewEvent, RecordedEvent, WrongExpectedVersionError } from '../event-store/event-store';
import { CommandContext, WriteResult } from './command-context';
import { DomainError } from './domain-error';
import { DomainEvent, schemaVersionOf, toDomainEvent } from './event-codec';
import { GENESIS_HASH, eventHash } from './hash-chain';
import { uuidV5 } from './ids';

export interface Decider<C, E extends DomainEvent, S> {
  decide(command: C, state: S): E[];
  evolve(state: S, event: E): S;
  initialState(): S;
}

/**
 * The events a command appends, with their metadata: who and why from the context, and each
 * event's place in its stream's hash chain (it seals the one before it). Ids derive from the
 * command id, so a retried command writes the same ids.
 */
export function sealEvents(stream: string, last: RecordedEvent | null, decided: DomainEvent[], context: CommandContext, reason?: string): NewEvent[] {
  let previousHash = typeof last?.metadata.hash === 'string' ? last.metadata.hash : GENESIS_HASH;
  const revision = last ? last.revision : -1;
  return decided.map((event, index) => {
    const metadata: Record<string, unknown> = {
      actor: context.actor,
      commandId: context.commandId,
      correlationId: context.correlationId,
      causationId: context.causationId,
      occurredAt: context.now,
      ...(reason !== undefined ? { reason } : {}),
      schemaVersion: schemaVersionOf(event.type),
      previousHash,
    };
    metadata.hash = previousHash = eventHash({ streamId: stream, revision: revision + 1 + index, type: event.type, data: event.data, metadata });
    return { id: uuidV5(`${context.commandId}:${stream}:${index}`), type: event.type, data: event.data as JsonObject, metadata };
  });
}

/** How often a command without If-Match is re-decided on fresh state after losing a race. */
const MAX_ATTEMPTS = 10;

/** Folds a stream's events into the decider's state. */
export function fold<C, E extends DomainEvent, S>(decider: Decider<C, E, S>, events: RecordedEvent[]): S {
  return events.reduce((state, event) => decider.evolve(state, toDomainEvent<E>(event)), decider.initialState());
}

/**
 * The one way a command becomes events: read the stream, fold, decide, append at the revision that
 * was read. A lost race is re-decided on fresh state (or answered 412 when the client sent If-Match);
 * a command whose events are already in the stream (same command id) answers as it did the first time.
 */
@Injectable()
export class CommandExecutor {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async execute<C, E extends DomainEvent, S>(
    decider: Decider<C, E, S>,
    stream: string,
    aggregateId: string,
    context: CommandContext,
    command: (state: S) => C,
    options: { reason?: string; created?: Record<string, string> } = {},
  ): Promise<WriteResult> {
    for (let attempt = 1; ; attempt++) {
      const events = await this.store.readStream(stream);
      const current = events.length ? events[events.length - 1] : undefined;
      const alreadyApplied = events.filter((e) => e.metadata.commandId === context.commandId);
      if (alreadyApplied.length > 0) {
        const last = alreadyApplied[alreadyApplied.length - 1];
        return { id: aggregateId, revision: last.revision, position: last.position, changed: true, created: options.created };
      }
      const revision = current ? current.revision : -1;
      if (context.ifMatch !== undefined && context.ifMatch !== revision) throw preconditionFailed(revision);
      const state = fold(decider, events);
      const decided = decider.decide(command(state), state);
      if (decided.length === 0) {
        if (!current) throw new Error(`decider returned no events for a new stream ${stream}`);
        return { id: aggregateId, revision, position: current.position, changed: false };
      }
      try {
        const newEvents = sealEvents(stream, current ?? null, decided, context, options.reason);
        const result = await this.store.appendToStream(stream, newEvents, { expectedRevision: current ? current.revision : 'no_stream' });
        return { id: aggregateId, revision: result.nextExpectedRevision, position: result.position, changed: true, created: options.created };
      } catch (error) {
        if (!(error instanceof WrongExpectedVersionError)) throw error;
        if (context.ifMatch !== undefined) throw preconditionFailed(error.actual === 'no_stream' ? -1 : error.actual);
        if (attempt >= MAX_ATTEMPTS)
          throw new DomainError('concurrency-conflict', 409, `Too many concurrent changes to ${stream}; retry.`);
        // Jitter, so that writers who lost the same race do not collide again in lockstep.
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 3 * attempt));
      }
    }
  }

  /** The state of a stream, folded from the log, with the revision it stands at (-1 when empty). */
  async load<C, E extends DomainEvent, S>(decider: Decider<C, E, S>, stream: string, toRevision?: number) {
    const events = await this.store.readStream(stream, { toRevision });
    return { state: fold(decider, events), revision: events.length ? events[events.length - 1].revision : -1, events };
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
