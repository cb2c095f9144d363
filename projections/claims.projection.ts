import { ProjectedEvent, streamEntityId } from './projection';
import { ClaimRow, recordedClaim, verdictOf } from './claim-rows';
import { RowSet, UnitOfWork, setBasedProjection } from './row-set';

/**
 * `claims`: every claim across articles with its current verdict, plus what the claim lists filter
 * and show by: the article's current headline and its topics.
 *
 * Set-based (see row-set.ts): one SELECT for the articles, taggings and claims a batch names, the
 * events applied in memory, one statement for what changed.
 */
export const claimsProjection = setBasedProjection({
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
  model,
  handlers: {
    ArticleDrafted: {
      reads: needArticle,
      apply: (event, m) => {
        m.articles.insert({ id: streamEntityId(event), headline: event.data.headline }, { onConflict: 'nothing' });
      },
    },
    HeadlineChanged: {
      reads: needArticle,
      apply: (event, m) => {
        m.articles.update({ id: streamEntityId(event) }, { headline: event.data.headline });
      },
    },
    TopicTagged: {
      reads: (event, m) => m.topics.need({ slug: event.data.slug, article_id: streamEntityId(event) }),
      apply: (event, m) => {
        m.topics.insert({ article_id: streamEntityId(event), slug: event.data.slug }, { onConflict: 'nothing' });
      },
    },
    TopicUntagged: {
      reads: (event, m) => m.topics.need({ slug: event.data.slug, article_id: streamEntityId(event) }),
      apply: (event, m) => {
        m.topics.delete({ article_id: streamEntityId(event), slug: event.data.slug });
      },
    },
    ClaimRecorded: {
      reads: (event, m) => {
        needArticle(event, m);
        needClaims(event, m);
      },
      apply: (event, m) => {
        const claim = recordedClaim(event);
        m.claims.insert(claim, { where: m.articles.has({ id: claim.article_id }), onConflict: 'nothing' });
      },
    },
    ClaimVerdictRecorded: {
      reads: needClaims,
      apply: (event, m) => {
        const { key, patch } = verdictOf(event);
        m.claims.update(key, patch);
      },
    },
  },
});

interface ArticleRow {
  id: string;
  headline: string;
}

interface ArticleTopicRow {
  article_id: string;
  slug: string;
}


interface Model {
  articles: RowSet<ArticleRow>;
  topics: RowSet<ArticleTopicRow>;
  claims: RowSet<ClaimRow>;
}

function model(unit: UnitOfWork): Model {
  return {
    articles: unit.table<ArticleRow>('articles', { loadBy: ['id'] }),
    // Keyed (slug, article_id): loaded by both, never by slug alone (a slug has many articles).
    topics: unit.table<ArticleTopicRow>('article_topics', { loadBy: ['slug', 'article_id'] }),
    claims: unit.table<ClaimRow>('claims', { loadBy: ['article_id'] }),
  };
}

function needArticle(event: ProjectedEvent<unknown>, m: Model): void {
  m.articles.need({ id: streamEntityId(event) });
}

function needClaims(event: ProjectedEvent<unknown>, m: Model): void {
  m.claims.need({ article_id: streamEntityId(event) });
}
