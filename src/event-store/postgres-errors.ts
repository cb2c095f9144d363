import { StoreUnavailableError } from './event-store';

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH']);

/**
 * True when a `pg` error means the server could not be reached or went away (as opposed to an
 * error in the statement): refused or reset connections, admin shutdown (57P01..57P03), a
 * connection class error (08xxx), a statement cancelled by `statement_timeout` (57014), or the
 * driver's own timeouts (connecting, waiting for a pooled connection, `query_timeout`).
 */
export function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: string }).code;
  if (code && (CONNECTION_CODES.has(code) || code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03')) return true;
  // 57014: cancelled by statement_timeout — the server is alive but not answering in time.
  if (code === '57014') return true;
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|not queryable|Query read timeout/i.test(error.message);
}

/** Rethrows connection failures as {@link StoreUnavailableError}; other errors unchanged. */
export function mapPgError(error: unknown, store: 'eventStore' | 'readStore'): never {
  if (error instanceof StoreUnavailableError) throw error;
  if (isConnectionError(error)) throw new StoreUnavailableError(store, error);
  throw error;
}
