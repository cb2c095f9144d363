import { PoolClient } from 'pg';

/**
 * The event log is append-only in the database itself: triggers refuse any UPDATE, DELETE or
 * TRUNCATE of `events`, and on `event_streams` (one row a stream: its current revision) anything
 * but an UPDATE that moves a revision forward. They bind every role, the tables' owner included;
 * only a superuser can pass them by (`session_replication_role = replica`), and the hash chain
 * then shows what was changed.
 */
export const APPEND_ONLY_SCHEMA = `
CREATE FUNCTION copydesk_refuse_event_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the event log is append-only: % on % is refused', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON events
  FOR EACH STATEMENT EXECUTE FUNCTION copydesk_refuse_event_change();
CREATE TRIGGER event_streams_no_delete BEFORE DELETE OR TRUNCATE ON event_streams
  FOR EACH STATEMENT EXECUTE FUNCTION copydesk_refuse_event_change();
CREATE FUNCTION copydesk_refuse_stream_rewind() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.stream_id IS DISTINCT FROM OLD.stream_id OR NEW.revision <= OLD.revision THEN
    RAISE EXCEPTION 'the event log is append-only: a stream''s revision only moves forward (% from % to %)', OLD.stream_id, OLD.revision, NEW.revision
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER event_streams_forward_only BEFORE UPDATE ON event_streams
  FOR EACH ROW EXECUTE FUNCTION copydesk_refuse_stream_rewind();
`;

const LOG_TABLES = ['events', 'event_streams'];

/**
 * Gives the application's role what it needs and no more, after every migration (so tables that
 * later migrations add are covered): on the event log, SELECT and INSERT (`events`) and SELECT,
 * INSERT, UPDATE (`event_streams`); on every other table in `public`, reading and writing rows;
 * the sequences; and CREATE on the database, for the projection runner's `rm_*` schemas. Those
 * schemas belong to the application's role: ones made before it had a role of its own are handed
 * over.
 */
export async function grantToApplication(client: PoolClient, role: string): Promise<void> {
  const grantee = client.escapeIdentifier(role);
  const { rows: db } = await client.query<{ name: string }>('SELECT current_database() AS name');
  await client.query(`GRANT CONNECT, TEMPORARY, CREATE ON DATABASE ${client.escapeIdentifier(db[0].name)} TO ${grantee}`);
  await client.query(`GRANT USAGE ON SCHEMA public TO ${grantee}`);
  const { rows: tables } = await client.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm') AND c.relname <> 'schema_migrations'`,
  );
  for (const { name } of tables) {
    const table = `public.${client.escapeIdentifier(name)}`;
    if (LOG_TABLES.includes(name)) {
      await client.query(`REVOKE ALL ON ${table} FROM ${grantee}`);
      await client.query(`GRANT ${name === 'events' ? 'SELECT, INSERT' : 'SELECT, INSERT, UPDATE'} ON ${table} TO ${grantee}`);
    } else await client.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ${table} TO ${grantee}`);
  }
  await client.query(`GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO ${grantee}`);
  const { rows: schemas } = await client.query<{ name: string }>(
    `SELECT nspname AS name FROM pg_namespace WHERE nspname LIKE 'rm\\_%' AND nspowner <> (SELECT oid FROM pg_roles WHERE rolname = $1)`,
    [role],
  );
  for (const { name } of schemas) {
    const schema = client.escapeIdentifier(name);
    await client.query(`ALTER SCHEMA ${schema} OWNER TO ${grantee}`);
    const { rows: owned } = await client.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind IN ('r', 'p')`,
      [name],
    );
    for (const table of owned) await client.query(`ALTER TABLE ${schema}.${client.escapeIdentifier(table.name)} OWNER TO ${grantee}`);
  }
}
