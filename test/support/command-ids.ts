import { Pool } from 'pg';
import { keyedCommandId } from '../../src/newsroom/ids';
import { loadCommandIdKey } from '../../src/read-store/server-keys';

/** The command id the server derives for one actor's Idempotency-Key on this database (its key is in `server_keys`). */
export async function commandIdOf(pool: Pool, actorId: string, idempotencyKey: string): Promise<string> {
  return keyedCommandId(await loadCommandIdKey(pool), actorId, idempotencyKey);
}
