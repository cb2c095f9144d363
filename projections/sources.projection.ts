import { RegisteredSource, SOURCE_EVENT_TYPES, SourceEvent, SourceState, evolve } from '../src/newsroom/source/source.decider';
import { ProjectedEvent, Projection, RequiredFields, Sql, refuseMalformed } from './projection';
import { streamsToEvolve, toJson } from './stream-documents';

/**
 * `sources`: the source directory, one row per source as the source decider's `evolve` leaves it, with
 * its stream revision (`ETag`). The quotes attributed to a source are the articles read model's
 * (`article_quotes`), where the article documents keep them.
 *
 * A batch is grouped by source: one statement loads the sources its events name, each is evolved in
 * memory with its new events (a re-delivery, at or below the stored revision, is passed by), one
 * statement writes back those that changed.
 */
export const sourcesProjection: Projection = {
  name: 'sources',
  version: 2,
  tables: [
    `CREATE TABLE {sources} (
       id           uuid PRIMARY KEY,
       name         text NOT NULL,
       kind         text NOT NULL,
       title        text,
       organization text,
       revision     integer NOT NULL
     )`,
  ],
  indexes: [`CREATE INDEX IF NOT EXISTS sources_by_name ON {sources} (lower(name), id)`],
  // Version 1 kept quotes here too; its sources table reads the same.
  readableFrom: 1,
  types: new Set(SOURCE_EVENT_TYPES),
  catchAll: false,
  apply: applySources,
};

type StoredSource = RegisteredSource & { revision: number };

/** What a source is made of: an event without it, or with what a column cannot hold, is refused (see refuseMalformed). */
const REQUIRED: RequiredFields = {
  SourceRegistered: { name: 'string', kind: 'string', title: 'string?', organization: 'string?' },
  SourceUpdated: { name: 'string?', title: 'string?', organization: 'string?' },
};

async function applySources(events: readonly ProjectedEvent[], sql: Sql): Promise<void> {
  const streams = await streamsToEvolve<StoredSource>(events, loadSources(sql), (stored) => stored.revision);
  const changed: StoredSource[] = [];
  for (const { id, stored, fresh } of streams) {
    refuseMalformed(fresh, REQUIRED);
    let state: SourceState = stored ?? { status: 'none' };
    for (const event of fresh) state = evolve(state, event as unknown as SourceEvent);
    if (state.status === 'none' || fresh.length === 0) continue;
    // The row's id is the stream's (as PostgreSQL reads it); the revision the last event's, applied or not.
    changed.push({ ...state, id, revision: fresh[fresh.length - 1].revision });
  }
  if (changed.length === 0) return;
  await sql(
    `INSERT INTO {sources} (id, name, kind, title, organization, revision)
     SELECT id, name, kind, title, organization, revision FROM jsonb_to_recordset($1::jsonb)
       AS r(id uuid, name text, kind text, title text, organization text, revision integer)
     ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, kind = EXCLUDED.kind, title = EXCLUDED.title,
       organization = EXCLUDED.organization, revision = EXCLUDED.revision`,
    [toJson(changed.map(({ id, name, kind, title, organization, revision }) => ({ id, name, kind, title: title ?? null, organization: organization ?? null, revision })))],
  );
}

/** One statement: the stored sources the batch's events name. */
function loadSources(sql: Sql) {
  return async (keys: string[]) => {
    const { rows } = await sql<{ key: string; id: string; source: StoredSource | null }>(
      `SELECT k.key, k.key::uuid::text AS id,
              CASE WHEN s.id IS NULL THEN NULL ELSE json_build_object('status', 'registered', 'id', s.id, 'name', s.name,
                'kind', s.kind, 'title', s.title, 'organization', s.organization, 'revision', s.revision) END AS source
       FROM unnest($1::text[]) AS k(key) LEFT JOIN {sources} s ON s.id = k.key::uuid`,
      [keys],
    );
    return rows.map(({ key, id, source }) => ({ key, id, stored: source }));
  };
}
