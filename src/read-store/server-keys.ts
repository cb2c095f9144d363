import { Pool } from 'pg';
import { mapPgError } from '../event-store/postgres-errors';

/**
 * Secrets the server keeps in PostgreSQL, so that every replica on one database shares them: each
 * is generated once, by the migration that adds it, from PostgreSQL's strong random source (two
 * version-4 UUIDs, 244 random bits).
 */
export const SERVER_KEYS_SCHEMA = `
CREATE TABLE IF NOT EXISTS server_keys (
  name       text PRIMARY KEY,
  key        bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO server_keys (name, key)
VALUES ('command-ids', decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'))
ON CONFLICT (name) DO NOTHING;
`;

/** The key command ids are derived with (see `keyedCommandId`); read once at start-up. */
export async function loadCommandIdKey(pool: Pool): Promise<Buffer> {
  const { rows } = await pool
    .query<{ key: Buffer }>(`SELECT key FROM server_keys WHERE name = 'command-ids'`)
    .catch((error) => mapPgError(error, 'readStore'));
  if (rows.length === 0 || rows[0].key.length < 16) throw new Error('server_keys has no command-ids key: the migrations did not run');
  return rows[0].key;
}
