import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Runtime } from '../app/runtime';
import { CopydeskConfig } from '../config/configuration';
import { redactUrl } from '../config/redact-url';

/** Where the JWT secret comes from (never the secret itself). */
export function jwtSecretSource(config: Pick<CopydeskConfig, 'jwtSecret' | 'dataDir'>): string {
  if (config.jwtSecret) return 'AUTH_JWT_SECRET';
  const file = join(config.dataDir, 'jwt-secret');
  return existsSync(file) ? file : `${file} (new)`;
}

/**
 * A read-only command (`copydesk token`) must not make a secret of its own: tokens signed with it
 * would fail on the server with "invalid signature".
 */
export function existingJwtSecret(config: Pick<CopydeskConfig, 'jwtSecret' | 'dataDir'>): void {
  if (config.jwtSecret || existsSync(join(config.dataDir, 'jwt-secret'))) return;
  throw new Error(
    `DATA_DIR ${config.dataDir} holds no jwt-secret and AUTH_JWT_SECRET is unset; run this with the server's DATA_DIR (or its AUTH_JWT_SECRET), so that the server accepts the token`,
  );
}

/** The one line a command prints on stderr: which data directory, database, event store and secret it uses. */
export function dataSourcesLine(runtime: Runtime, secret: string | null): string {
  const { config } = runtime;
  const events = config.eventStoreConnectionString ? `EventStoreDB ${redactUrl(config.eventStoreConnectionString)}` : 'the Postgres event log';
  return `copydesk: DATA_DIR ${config.dataDir}; database: ${runtime.database}; events: ${events}${secret ? `; JWT secret: ${secret}` : ''}`;
}
