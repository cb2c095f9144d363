import { createHash } from 'node:crypto';
import { RecordedEvent } from '../event-store/event-store';
import { canonicalJson } from './canonical-json';

/** The `previousHash` of a stream's first event. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * The hash version new events are sealed with, in their metadata's `hashVersion`. Version 2 seals the
 * event's id too; events without `hashVersion` (version 1) are verified as they were sealed, without it.
 */
export const HASH_VERSION = 2;

export interface ChainLink {
  previousHash: string;
  hash: string;
}

/**
 * SHA-256 over the event's stream, revision, type, data and metadata (without `hash` itself), and
 * from hash version 2 its id, where the metadata includes `previousHash`: each event seals the one
 * before it, so altering any stored event (its metadata: actor, occurredAt, reason, …), or removing
 * or reordering one, breaks every link from there on. The store's own `created` time is not known
 * when the event is sealed and is not covered; `occurredAt` is.
 */
export function eventHash(event: { id?: string; streamId: string; revision: number; type: string; data: unknown; metadata: Record<string, unknown> }): string {
  const { hash: _ignored, ...metadata } = event.metadata;
  const sealed: Record<string, unknown> = { streamId: event.streamId, revision: event.revision, type: event.type, data: event.data, metadata };
  if (metadata.hashVersion !== undefined) {
    if (metadata.hashVersion !== HASH_VERSION || typeof event.id !== 'string') return 'unverifiable';
    sealed.id = event.id;
  }
  return createHash('sha256').update(canonicalJson(sealed)).digest('hex');
}

export interface ChainBreak {
  revision: number;
  position: string;
  eventId: string;
  type: string;
  /**
   * `missing-event`: an event that the independent record (the audit read model) saw at this revision
   * is no longer in the log there — deleted (a removed tail passes the chain itself), or replaced.
   */
  problem: 'hash-mismatch' | 'previous-hash-mismatch' | 'missing-hash' | 'revision-gap' | 'missing-event';
}

export interface ChainVerification {
  streamId: string;
  events: number;
  valid: boolean;
  firstBreak: ChainBreak | null;
  headHash: string | null;
}

/** An event as a record kept apart from the log saw it (see `AuditRecord`). */
export interface WitnessedEvent {
  streamId: string;
  revision: number;
  eventId: string;
  type: string;
  position: string;
}

/**
 * Checks events one at a time, in stream order, for any number of interleaved streams (as $all
 * delivers them), against their hash chains and against the events a separate record witnessed:
 * each witnessed event must still be in the log, at its revision, with its id.
 */
export class ChainVerifier {
  private readonly heads = new Map<string, { revision: number; hash: string }>();
  private readonly breaks = new Map<string, ChainBreak>();
  private readonly counts = new Map<string, number>();
  /** Witnessed events the log has not (yet) shown at their revision. */
  private readonly witnessed = new Map<string, Map<number, WitnessedEvent>>();
  private readonly replaced = new Map<string, ChainBreak>();
  /** Streams in the order of their first event in the log. */
  private readonly streamIds = new Set<string>();

  /** Before the stream's events are pushed: an event the log must still hold. */
  witness(event: WitnessedEvent): void {
    let events = this.witnessed.get(event.streamId);
    if (!events) this.witnessed.set(event.streamId, (events = new Map()));
    events.set(event.revision, event);
  }

  push(event: RecordedEvent): void {
    const streamId = event.streamId;
    this.streamIds.add(streamId);
    this.counts.set(streamId, (this.counts.get(streamId) ?? 0) + 1);
    const witnessed = this.witnessed.get(streamId);
    const seen = witnessed?.get(event.revision);
    if (seen) {
      witnessed!.delete(event.revision);
      if (seen.eventId !== event.id) this.noteReplaced(seen);
    }
    if (this.breaks.has(streamId)) return;
    const head = this.heads.get(streamId) ?? { revision: -1, hash: GENESIS_HASH };
    const problem = ((): ChainBreak['problem'] | null => {
      if (event.revision !== head.revision + 1) return 'revision-gap';
      if (typeof event.metadata.hash !== 'string') return 'missing-hash';
      if (event.metadata.previousHash !== head.hash) return 'previous-hash-mismatch';
      if (eventHash(event) !== event.metadata.hash) return 'hash-mismatch';
      return null;
    })();
    if (problem) {
      this.breaks.set(streamId, { revision: event.revision, position: event.position, eventId: event.id, type: event.type, problem });
      return;
    }
    this.heads.set(streamId, { revision: event.revision, hash: event.metadata.hash as string });
  }

  result(streamId: string): ChainVerification {
    const breaks = [this.breaks.get(streamId), this.replaced.get(streamId), this.neverShown(streamId)].filter((b): b is ChainBreak => b !== undefined);
    const firstBreak = breaks.length ? breaks.reduce((a, b) => (b.revision < a.revision ? b : a)) : null;
    return {
      streamId,
      events: this.counts.get(streamId) ?? 0,
      valid: firstBreak === null,
      firstBreak,
      headHash: firstBreak ? null : (this.heads.get(streamId)?.hash ?? null),
    };
  }

  /** Every stream seen: those in the log in the order of their first events, then those only the record saw. */
  streams(): string[] {
    return [...this.streamIds, ...[...this.witnessed.keys()].filter((streamId) => !this.streamIds.has(streamId))];
  }

  broken(): ChainVerification[] {
    return this.streams()
      .map((streamId) => this.result(streamId))
      .filter((r) => !r.valid);
  }

  /** The log holds another event where the record saw this one. */
  private noteReplaced(seen: WitnessedEvent): void {
    const known = this.replaced.get(seen.streamId);
    if (!known || seen.revision < known.revision) this.replaced.set(seen.streamId, asMissing(seen));
  }

  /** The first witnessed event the log has no event at all for at its revision (a lost tail, or worse). */
  private neverShown(streamId: string): ChainBreak | undefined {
    let first: WitnessedEvent | undefined;
    for (const seen of this.witnessed.get(streamId)?.values() ?? []) if (!first || seen.revision < first.revision) first = seen;
    return first && asMissing(first);
  }
}

const asMissing = (seen: WitnessedEvent): ChainBreak => ({
  revision: seen.revision,
  position: seen.position,
  eventId: seen.eventId,
  type: seen.type,
  problem: 'missing-event',
});

/** Recomputes a stream's chain from its first event and names the first event that does not match. */
export function verifyChain(streamId: string, events: RecordedEvent[], witnessed: WitnessedEvent[] = []): ChainVerification {
  const verifier = new ChainVerifier();
  for (const event of witnessed) verifier.witness(event);
  for (const event of events) verifier.push({ ...event, streamId });
  return verifier.result(streamId);
}
