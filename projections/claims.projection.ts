import { EventData, ProjectedEvent, actorOf, occurredAt, streamEntityId } from './projection';
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

/** A claim row. */
interface ClaimRow {
  article_id: string;
  id: string;
  seq: string;
  text: string;
  quote_id: string | null;
  verdict: string | null;
  /** JSON text. */
  evidence: string;
  note: string | null;
  checked_by_id: string | null;
  checked_by_name: string | null;
  checked_at: string | null;
}

/** The row a `ClaimRecorded` creates: unchecked, ordered by the event's position. */
function recordedClaim(event: ProjectedEvent<EventData<'ClaimRecorded'>>): Partial<ClaimRow> & Pick<ClaimRow, 'article_id' | 'id'> {
  const { claimId, text, quoteId } = event.data;
  return { article_id: streamEntityId(event), id: claimId, seq: event.position, text, quote_id: quoteId ?? null, evidence: '[]' };
}

/** The key and the change a `ClaimVerdictRecorded` makes: the verdict, its evidence and who checked it when. */
function verdictOf(event: ProjectedEvent<EventData<'ClaimVerdictRecorded'>>): { key: Pick<ClaimRow, 'article_id' | 'id'>; patch: Partial<ClaimRow> } {
  const { claimId, verdict, evidence, note } = event.data;
  const by = actorOf(event);
  return {
    key: { article_id: streamEntityId(event), id: claimId },
    patch: {
      verdict,
      evidence: JSON.stringify(evidence ?? []),
      note: note ?? null,
      checked_by_id: by.id,
      checked_by_name: by.name,
      checked_at: occurredAt(event),
    },
  };
}
