/**
 * The per-event definition of this read model as it stood before the projection became set-based
 * (one statement set per event): the oracle the property spec compares the set-based one against.
 * Kept verbatim; do not "fix" it without fixing the projection. Changed once for the source directory,
 * when the sources read model came to be folded by the source decider's evolve: an update whose name is
 * no text is refused, a registration of a known source moves only its revision, one without a name or
 * kind or with text PostgreSQL cannot store is refused whatever the state, and an event delivered again
 * (at or below the stored revision) changes nothing, as the articles read model has it. Then once more
 * (30 Nov): an event delivered again is passed by before its fields are looked at, so a malformed one
 * that comes again after later events were applied is not refused (found by 3,000-run properties).
 */
import { perEventProjection, streamEntityId } from '../../../projections/projection';

/**
 * `sources`: the source directory with, for each source, the quotes attributed to it across
 * articles. Quotes are tracked from `QuoteAdded` (the attribution event does not carry the text),
 * and article headlines are kept here so that a quote's headline stays current.
 */
export const sourcesOracle = perEventProjection({
  name: 'sources',
  version: 1,
  tables: [
    `CREATE TABLE {sources} (
       id           uuid PRIMARY KEY,
       name         text NOT NULL,
       kind         text NOT NULL,
       title        text,
       organization text,
       revision     integer NOT NULL
     )`,
    `CREATE INDEX ON {sources} (lower(name), id)`,
    `CREATE TABLE {articles} (
       id       uuid PRIMARY KEY,
       headline text NOT NULL
     )`,
    `CREATE TABLE {quotes} (
       article_id    uuid NOT NULL,
       quote_id      uuid NOT NULL,
       text          text NOT NULL,
       status        text NOT NULL,
       source_id     uuid,
       attribution   text,
       method        text,
       attributed_at numeric,
       PRIMARY KEY (article_id, quote_id)
     )`,
    `CREATE INDEX ON {quotes} (source_id, attributed_at)`,
  ],
  handlers: {
    SourceRegistered: async (event, sql) => {
      const { name, kind, title, organization } = event.data;
      const stored = await sql<{ revision: number }>('SELECT revision FROM {sources} WHERE id = $1', [streamEntityId(event)]);
      if (stored.rows.length > 0 && stored.rows[0].revision >= event.revision) return; // delivered again
      // A registration without a name or kind, or with text PostgreSQL cannot store, is refused; one of a known
      // source moves only its revision.
      if (typeof name !== 'string' || typeof kind !== 'string') throw new Error('SourceRegistered without a name or kind');
      if ([name, kind, title, organization].some((v) => typeof v === 'string' && v.includes('\u0000'))) throw new Error('SourceRegistered with a NUL');
      const known = await sql(`SELECT 1 FROM {sources} WHERE id = $1`, [streamEntityId(event)]);
      if (known.rowCount) {
        await sql(`UPDATE {sources} SET revision = $2 WHERE id = $1 AND revision < $2`, [streamEntityId(event), event.revision]);
        return;
      }
      await sql(`INSERT INTO {sources} (id, name, kind, title, organization, revision) VALUES ($1, $2, $3, $4, $5, $6)`, [
        streamEntityId(event),
        name,
        kind,
        title ?? null,
        organization ?? null,
        event.revision,
      ]);
    },
    SourceUpdated: async (event, sql) => {
      const { data } = event;
      const { rows } = await sql<{ revision: number }>('SELECT revision FROM {sources} WHERE id = $1', [streamEntityId(event)]);
      if (rows.length > 0 && rows[0].revision >= event.revision) return; // delivered again: nothing to apply, nothing to refuse
      if (data.name !== undefined && data.name !== null && typeof data.name !== 'string') throw new Error('SourceUpdated with a name that is no text');
      // Only the fields the event carries change; title and organization may change to null.
      await sql(
        `UPDATE {sources} SET
           name = CASE WHEN $2 THEN $3 ELSE name END,
           title = CASE WHEN $4 THEN $5 ELSE title END,
           organization = CASE WHEN $6 THEN $7 ELSE organization END,
           revision = $8
         WHERE id = $1 AND revision < $8`,
        [
          streamEntityId(event),
          typeof data.name === 'string',
          data.name ?? null,
          'title' in data,
          data.title ?? null,
          'organization' in data,
          data.organization ?? null,
          event.revision,
        ],
      );
    },
    ArticleDrafted: async (event, sql) => {
      await sql(`INSERT INTO {articles} (id, headline) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING`, [streamEntityId(event), event.data.headline]);
    },
    HeadlineChanged: async (event, sql) => {
      await sql(`UPDATE {articles} SET headline = $2 WHERE id = $1`, [streamEntityId(event), event.data.headline]);
    },
    QuoteAdded: async (event, sql) => {
      await sql(
        `INSERT INTO {quotes} (article_id, quote_id, text, status) VALUES ($1, $2, $3, 'unattributed')
         ON CONFLICT (article_id, quote_id) DO NOTHING`,
        [streamEntityId(event), event.data.quoteId, event.data.text],
      );
    },
    SourceAttributed: async (event, sql) => {
      const { quoteId, source, attribution, method } = event.data;
      // A re-attribution moves the quote to the new source, at the top of its list.
      await sql(
        `UPDATE {quotes} SET status = 'attributed', source_id = $3, attribution = $4, method = $5, attributed_at = $6
         WHERE article_id = $1 AND quote_id = $2`,
        [streamEntityId(event), quoteId, source.id, attribution ?? null, method, event.position],
      );
    },
    QuoteWithdrawn: async (event, sql) => {
      await sql(`UPDATE {quotes} SET status = 'withdrawn' WHERE article_id = $1 AND quote_id = $2`, [streamEntityId(event), event.data.quoteId]);
    },
  },
});
