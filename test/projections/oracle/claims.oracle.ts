/**
 * The per-event definition of this read model as it stood before the projection became set-based
 * (one statement set per event): the oracle the property spec compares the set-based one against.
 * Kept verbatim; do not "fix" it without fixing the projection.
 */
import { perEventProjection, actorOf, occurredAt, streamEntityId } from '../../../projections/projection';

/**
 * `claims`: every claim across articles with its current verdict, plus what the claim lists filter
 * and show by: the article's current headline and its topics.
 */
export const claimsOracle = perEventProjection({
  name: 'claims',
  version: 1,
  tables: [
    `CREATE TABLE {articles} (
       id       uuid PRIMARY KEY,
       headline text NOT NULL
     )`,
    `CREATE TABLE {article_topics} (
       article_id uuid NOT NULL,
       slug       text NOT NULL,
       PRIMARY KEY (slug, article_id)
     )`,
    `CREATE TABLE {claims} (
       article_id      uuid NOT NULL,
       id              uuid NOT NULL,
       seq             numeric NOT NULL UNIQUE,
       text            text NOT NULL,
       quote_id        uuid,
       verdict         text,
       evidence        json NOT NULL,
       note            text,
       checked_by_id   text,
       checked_by_name text,
       checked_at      text,
       PRIMARY KEY (article_id, id)
     )`,
    `CREATE INDEX ON {claims} (article_id, seq)`,
    `CREATE INDEX ON {claims} (verdict, seq)`,
  ],
  handlers: {
    ArticleDrafted: async (event, sql) => {
      await sql(`INSERT INTO {articles} (id, headline) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING`, [streamEntityId(event), event.data.headline]);
    },
    HeadlineChanged: async (event, sql) => {
      await sql(`UPDATE {articles} SET headline = $2 WHERE id = $1`, [streamEntityId(event), event.data.headline]);
    },
    TopicTagged: async (event, sql) => {
      await sql(`INSERT INTO {article_topics} (article_id, slug) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [streamEntityId(event), event.data.slug]);
    },
    TopicUntagged: async (event, sql) => {
      await sql(`DELETE FROM {article_topics} WHERE article_id = $1 AND slug = $2`, [streamEntityId(event), event.data.slug]);
    },
    ClaimRecorded: async (event, sql) => {
      const { claimId, text, quoteId } = event.data;
      await sql(
        `INSERT INTO {claims} (article_id, id, seq, text, quote_id, evidence)
         SELECT $1, $2, $3, $4, $5, '[]' WHERE EXISTS (SELECT 1 FROM {articles} WHERE id = $1)
         ON CONFLICT (article_id, id) DO NOTHING`,
        [streamEntityId(event), claimId, event.position, text, quoteId ?? null],
      );
    },
    ClaimVerdictRecorded: async (event, sql) => {
      const { claimId, verdict, evidence, note } = event.data;
      const by = actorOf(event);
      await sql(
        `UPDATE {claims} SET verdict = $3, evidence = $4, note = $5, checked_by_id = $6, checked_by_name = $7, checked_at = $8
         WHERE article_id = $1 AND id = $2`,
        [streamEntityId(event), claimId, verdict, JSON.stringify(evidence ?? []), note ?? null, by.id, by.name, occurredAt(event)],
      );
    },
  },
});
