import { ARTICLE_EVENT_TYPES } from '../src/newsroom/article/article.decider';
import { SOURCE_EVENT_TYPES } from '../src/newsroom/source/source.decider';
import { ProjectedEvent, Projection, occurredAt, occurredAtTimestamp } from './projection';

/** One row per event, with its provenance, as `{entries}` stores it. */
function entry(event: ProjectedEvent): Record<string, unknown> {
  const { metadata } = event;
  const actor = metadata.actor ?? {};
  return {
    position: event.position,
    event_id: event.id,
    stream_id: event.streamId,
    revision: event.revision,
    type: event.type,
    actor_id: actor.id === undefined ? null : String(actor.id),
    actor_name: actor.name === undefined ? null : String(actor.name),
    actor_roles: Array.isArray(actor.roles) ? actor.roles : [],
    occurred_at: occurredAt(event),
    occurred_at_ts: occurredAtTimestamp(event).toISOString(),
    reason: typeof metadata.reason === 'string' ? metadata.reason : null,
    data: event.data,
    command_id: stringOrNull(metadata.commandId),
    correlation_id: stringOrNull(metadata.correlationId),
    causation_id: stringOrNull(metadata.causationId),
  };
}

/** The columns of `{entries}`, in the order `entry` gives them. */
const ENTRY_COLUMNS = [
  'position',
  'event_id',
  'stream_id',
  'revision',
  'type',
  'actor_id',
  'actor_name',
  'actor_roles',
  'occurred_at',
  'occurred_at_ts',
  'reason',
  'data',
  'command_id',
  'correlation_id',
  'causation_id',
] as const;

function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

/**
 * `audit`: one row per event, with its provenance — the newsroom-wide audit trail and each
 * article's history. It applies every event, of any type (`catchAll`), and a whole batch in one
 * statement: the rows go over as one JSON array and `json_populate_recordset` turns it into rows
 * of the table's own type. Into a fresh build (`context.bulk`, a rebuild) it COPYs the rows instead.
 */
export const auditProjection: Projection = {
  name: 'audit',
  version: 1,
  types: new Set([...ARTICLE_EVENT_TYPES, ...SOURCE_EVENT_TYPES]),
  catchAll: true,
  tables: [
    // Its key is a unique index (below), built after a bulk load: every event reaches a build once.
    `CREATE TABLE {entries} (
       position       numeric NOT NULL,
       event_id       uuid NOT NULL,
       stream_id      text NOT NULL,
       revision       integer NOT NULL,
       type           text NOT NULL,
       actor_id       text,
       actor_name     text,
       actor_roles    json NOT NULL,
       occurred_at    text NOT NULL,
       occurred_at_ts timestamptz NOT NULL,
       reason         text,
       data           json NOT NULL,
       command_id     text,
       correlation_id text,
       causation_id   text
     )`,
  ],
  indexes: [
    `CREATE UNIQUE INDEX IF NOT EXISTS entries_by_position ON {entries} (position)`,
    `CREATE INDEX IF NOT EXISTS entries_by_stream ON {entries} (stream_id, revision)`,
    `CREATE INDEX IF NOT EXISTS entries_by_actor ON {entries} (actor_id, position)`,
    `CREATE INDEX IF NOT EXISTS entries_by_type ON {entries} (type, position)`,
    `CREATE INDEX IF NOT EXISTS entries_by_time ON {entries} (occurred_at_ts)`,
  ],
  async apply(events, sql, context) {
    if (context?.bulk) {
      // A fresh build, filled once from the log: COPY, without the JSON round trip.
      const rows = events.map(entry);
      await context.copy('entries', ENTRY_COLUMNS, rows.map((row) => ENTRY_COLUMNS.map((column) => row[column])));
      return;
    }
    await sql(
      `INSERT INTO {entries} SELECT * FROM json_populate_recordset(NULL::{entries}, $1) ON CONFLICT (position) DO NOTHING`,
      [JSON.stringify(events.map(entry))],
    );
  },
};
