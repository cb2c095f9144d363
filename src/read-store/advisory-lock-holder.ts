import { Client, PoolClient } from 'pg';

/**
 * Who holds the session advisory lock `hashtext(name)` (a bigint key: held as classid, its high half,
 * objid, its low half, objsubid 1): the holder's `application_name` (copydesk names its logins after
 * its process), else its backend's pid; undefined once nobody holds it.
 */
export async function advisoryLockHolder(client: Client | PoolClient, name: string): Promise<string | undefined> {
  const { rows } = await client.query<{ holder: string }>(
    `SELECT coalesce(nullif(a.application_name, ''), 'PostgreSQL backend ' || a.pid) AS holder
     FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
     WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
       AND l.classid = ((hashtext($1)::bigint >> 32) & 4294967295)::oid AND l.objid = (hashtext($1)::bigint & 4294967295)::oid`,
    [name],
  );
  return rows[0]?.holder;
}
