/**
 * Why the embedded PostgreSQL cannot start, in one sentence that names the directory or file at
 * fault and the fix. The command line prints the message alone (no stack trace).
 */
export class EmbeddedPostgresError extends Error {
  override readonly name = 'EmbeddedPostgresError';
}
