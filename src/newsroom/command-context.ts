import { Actor } from './actor';

/** Everything about a command that is not its payload; filled on the server, never from the body. */
export interface CommandContext {
  actor: Actor;
  /** Unique per command; derived from the Idempotency-Key when one is sent. */
  commandId: string;
  /**
   * True when `commandId` was made at random for this command (no Idempotency-Key): no earlier attempt
   * of it can have written events, so the executor does not look for them.
   */
  freshCommandId?: boolean;
  correlationId: string;
  causationId: string;
  /** ISO-8601; the only clock a command sees. */
  now: string;
  /** From `If-Match`: the revision the client last saw. */
  ifMatch?: number;
}

/** What a command did to its stream; the route that sent it builds the answer (see `writeAnswer`). */
export interface WriteResult {
  /** The stream's revision after the command. */
  revision: number;
  position: string;
  /** False when the command changed nothing (no event appended). */
  changed: boolean;
  /** True when an earlier attempt of the command had already appended its events: this answer repeats that one. */
  replayed?: boolean;
}
