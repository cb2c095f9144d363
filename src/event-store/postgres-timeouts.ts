/**
 * Bounds on every conversation with PostgreSQL (the pool's and the dedicated LISTEN and runner
 * connections'), so that a server that stops answering (hung, stopped, a dropped route) costs a
 * request at most connect-or-acquire + query, within API.md's 10 s:
 * - `connectionTimeoutMillis`: connecting, and waiting for a pooled connection;
 * - `statement_timeout`: a live but slow server cancels the statement itself (the connection stays);
 * - `query_timeout`: the client's own bound for a server that answers nothing at all (that connection is dropped);
 * - keepalive, so that a connection whose server vanished is noticed by the kernel;
 * - `idle_in_transaction_session_timeout`: a transaction whose client vanished mid-way does not hold its locks for long.
 * A statement that must run longer (building an index over the whole log) raises both for itself.
 */
export const PG_TIMEOUTS = {
  connectionTimeoutMillis: 3000,
  statement_timeout: 5000,
  query_timeout: 6000,
  keepAlive: true,
  keepAliveInitialDelayMillis: 10_000,
  idle_in_transaction_session_timeout: 60_000,
} as const;

/**
 * The `application_name` of every connection copydesk opens, after its process (and what the
 * connection is for), so that pg_stat_activity and pg_locks tell which process holds what.
 */
export const connectionName = (purpose?: string): string => `copydesk process ${process.pid}${purpose ? ` (${purpose})` : ''}`;
