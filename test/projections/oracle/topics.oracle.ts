/**
 * The per-event definition of this read model as it stood before the projection became set-based
 * (one statement set per event): the oracle the property spec compares the set-based one against.
 * Kept verbatim; do not "fix" it without fixing the projection.
 */
import { perEventProjection, streamEntityId } from '../../../projections/projection';

/** `topics`: each topic slug with its label (as first tagged) and how many articles carry it now. */
export const topicsOracle = perEventProjection({
  name: 'topics',
  version: 1,
  tables: [
    `CREATE TABLE {topics} (
       slug          text PRIMARY KEY,
       label         text NOT NULL,
       article_count integer NOT NULL
     )`,
    `CREATE TABLE {taggings} (
       slug       text NOT NULL,
       article_id uuid NOT NULL,
       PRIMARY KEY (slug, article_id)
     )`,
  ],
  handlers: {
    TopicTagged: async (event, sql) => {
      const { slug, label } = event.data;
      const tagged = await sql(`INSERT INTO {taggings} (slug, article_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [slug, streamEntityId(event)]);
      await sql(
        `INSERT INTO {topics} AS t (slug, label, article_count) VALUES ($1, $2, $3)
         ON CONFLICT (slug) DO UPDATE SET article_count = t.article_count + excluded.article_count`,
        [slug, label, tagged.rowCount ?? 0],
      );
    },
    TopicUntagged: async (event, sql) => {
      const { slug } = event.data;
      const untagged = await sql(`DELETE FROM {taggings} WHERE slug = $1 AND article_id = $2`, [slug, streamEntityId(event)]);
      await sql(`UPDATE {topics} SET article_count = article_count - $2 WHERE slug = $1`, [slug, untagged.rowCount ?? 0]);
    },
  },
});
