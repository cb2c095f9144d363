import { createHash } from 'node:crypto';
import { RecordedEvent } from '../event-store/event-store';
import { canonicalJson } from './canonical-json';

/** The `previousHash` of a stream's first event. */
export const GENESIS_HASH = '0'.repeat(64);

export interface ChainLink {
  previousHash: string;
  hash: string;
}

/**
 * SHA-256 over the event's stream, revision, type, data and metadata (without `hash` itself), where
 * the metadata includes `previousHash`: each event seals the one before it, so altering any stored
 * event, or removing or reordering one, breaks every link from there on.
 */
export function eventHash(event: { streamId: string; revision: number; type: string; data: unknown; metadata: Record<string, unknown> }): string {
  const { hash: _ignored, ...metadata } = event.metadata;
  return createHash('sha256')
    .update(canonicalJson({ streamId: event.streamId, revision: event.revision, type: event.type, data: event.data, metadata }))
    .digest('hex');
}

export interface ChainBreak {
  revision: number;
  position: string;
  eventId: string;
  type: string;
  problem: 'hash-mismatch' | 'previous-hash-mismatch' | 'missing-hash' | 'revision-gap';
}

export interface ChainVerification {
  streamId: string;
  events: number;
  valid: boolean;
  firstBreak: ChainBreak | null;
  headHash: string | null;
}

/** Checks events one at a time, in stream order, for any number of interleaved streams (as $all delivers them). */
export class ChainVerifier {
  private readonly heads = new Map<string, { revision: number; hash: string }>();
  private readonly breaks = new Map<string, ChainBreak>();
  private readonly counts = new Map<string, number>();

  push(event: RecordedEvent): void {
    const streamId = event.streamId;
    this.counts.set(streamId, (this.counts.get(streamId) ?? 0) + 1);
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
    const firstBreak = this.breaks.get(streamId) ?? null;
    return {
      streamId,
      events: this.counts.get(streamId) ?? 0,
      valid: firstBreak === null,
      firstBreak,
      headHash: firstBreak ? null : (this.heads.get(streamId)?.hash ?? null),
    };
  }

  streams(): string[] {
    return [...this.counts.keys()];
  }

  broken(): ChainVerification[] {
    return [...this.breaks.keys()].map((streamId) => this.result(streamId));
  }
}

/** Recomputes a stream's chain from its first event and names the first event that does not match. */
export function verifyChain(streamId: string, events: RecordedEvent[]): ChainVerification {
  const verifier = new ChainVerifier();
  for (const event of events) verifier.push({ ...event, streamId });
  return verifier.result(streamId);
}
