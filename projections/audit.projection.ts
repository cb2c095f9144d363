import { ARTICLE_EVENT_TYPES } from '../src/newsroom/article/article.decider';
import { SOURCE_EVENT_TYPES } from '../src/newsroom/source/source.decider';
import { ProjectedEvent, Projection, ProjectionHandlers, Sql, occurredAt, occurredAtTimestamp } from './projection';

/** One row per event, with its provenance: the newsroom-wide audit trail and each article's history. */
async function record(event: ProjectedEvent, sql: Sql): Promise<void> {
  const { metadata } = event;
  const actor = metadata.actor ?? {};
  await sql(
    `INSERT INTO {entries} (position, event_id, stream_id, revision, type, actor_id, actor_name, actor_roles,
                            occurred_at, occurred_at_ts, reason, data, command_id, correlation_id, causation_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
     ON CONFLICT (position) DO NOTHING`,
    [
      event.position,
      event.id,
      event.streamId,
      event.revision,
      event.type,
      actor.id === undefined ? null : String(actor.id),
      actor.name === undefined ? null : String(actor.name),
      JSON.stringify(Array.isArray(actor.roles) ? actor.roles : []),
      occurredAt(event),
      occurredAtTimestamp(event),
      typeof metadata.reason === 'string' ? metadata.reason : null,
      JSON.stringify(event.data),
      stringOrNull(metadata.commandId),
      stringOrNull(metadata.correlationId),
      stringOrNull(metadata.causationId),
    ],
  );
}

function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

const handlers: ProjectionHandlers = {};
for (const type of [...ARTICLE_EVENT_TYPES, ...SOURCE_EVENT_TYPES]) (handlers as Record<string, typeof record>)[type] = record;

export const auditProjection: Projection = {
  name: 'audit',
  version: 1,
  catchAll: record,
  tables: [
    `CREATE TABLE {entries} (
       position       numeric PRIMARY KEY,
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
    `CREATE INDEX ON {entries} (stream_id, revision)`,
    `CREATE INDEX ON {entries} (actor_id, position)`,
    `CREATE INDEX ON {entries} (type, position)`,
    `CREATE INDEX ON {entries} (occurred_at_ts)`,
  ],
  handlers,
};
