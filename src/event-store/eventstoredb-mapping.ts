import { ANY, AllStreamResolvedEvent, AppendExpectedRevision, CancelledError, DeadlineExceededError, NO_STREAM, ResolvedEvent, STREAM_EXISTS, TimeoutError, UnavailableError, isCommandError } from '@eventstore/db-client';
import { ExpectedRevision, JsonObject, RecordedEvent } from './event-store';

/* How the client's events, revisions and errors map onto the event-store port's. */

/** Position.End / "no position" as the server sends it for a stream read before 22.6 (ulong.MaxValue). */
const NO_POSITION = 18446744073709551615n;
/** gRPC status codes of a connection problem, for errors the client passes on unconverted. */
const CONNECTION_STATUS_CODES = new Set([1 /* CANCELLED */, 4 /* DEADLINE_EXCEEDED */, 14 /* UNAVAILABLE */]);

/** One of the client's CommandErrors (already classified), as opposed to a raw gRPC or other error. */
export function fromClient(error: unknown): boolean {
  return error instanceof Error && isCommandError(error);
}

/** System events are those whose type starts with `$` — what the client's `excludeSystemEvents()` filters out. */
export function isSystemEvent(type: string): boolean {
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

export function toClientRevision(expected: ExpectedRevision): AppendExpectedRevision {
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

export function toRecorded(resolved: ResolvedEvent | AllStreamResolvedEvent): RecordedEvent {
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
