import { quoteLocator } from '../src/newsroom/text';
import { ProjectedEvent, actorOf, occurredAt, streamEntityId } from './projection';
import { ClaimRow, recordedClaim, verdictOf } from './claim-rows';
import { AppendSet, RowSet, UnitOfWork, setBasedProjection } from './row-set';

/**
 * `articles`: everything `GET /articles` and `GET /articles/{id}` answer. Rows mirror the decider's
 * `evolve` (and `foldArticle` for who/when), so the read model and time travel never disagree.
 * `seq` columns hold the position of the event that created the row: they order quotes, topics,
 * claims and corrections as the article state does.
 *
 * Set-based (see row-set.ts): a batch loads the articles it names, and their quotes, topics or claims
 * when its events touch those, in one SELECT; applies the events to them in memory; writes what
 * changed in one statement.
 */
export const articlesProjection = setBasedProjection({
  name: 'articles',
  version: 1,
  tables: [
    `CREATE TABLE {articles} (
       id               uuid PRIMARY KEY,
       headline         text NOT NULL,
       byline           text,
       desk             text,
       status           text NOT NULL,
       body             text NOT NULL,
       revision         integer NOT NULL,
       created_position numeric NOT NULL UNIQUE,
       created_at       text NOT NULL,
       updated_at       text NOT NULL,
       published_at     text
     )`,
    `CREATE INDEX ON {articles} (status, created_position)`,
    `CREATE TABLE {quotes} (
       article_id   uuid NOT NULL,
       id           uuid NOT NULL,
       seq          numeric NOT NULL,
       text         text NOT NULL,
       speaker      text NOT NULL,
       paragraph    integer NOT NULL,
       status       text NOT NULL,
       in_body      boolean NOT NULL,
       source       json,
       attribution  text,
       method       text,
       PRIMARY KEY (article_id, id)
     )`,
    `CREATE TABLE {topics} (
       article_id uuid NOT NULL,
       slug       text NOT NULL,
       label      text NOT NULL,
       seq        numeric NOT NULL,
       PRIMARY KEY (article_id, slug)
     )`,
    `CREATE INDEX ON {topics} (slug)`,
    `CREATE TABLE {claims} (
       article_id      uuid NOT NULL,
       id              uuid NOT NULL,
       seq             numeric NOT NULL,
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
    `CREATE TABLE {corrections} (
       article_id     uuid NOT NULL,
       seq            numeric NOT NULL,
       text           text NOT NULL,
       issued_at      text NOT NULL,
       issued_by_id   text NOT NULL,
       issued_by_name text NOT NULL,
       PRIMARY KEY (article_id, seq)
     )`,
  ],
  model,
  handlers: {
    ArticleDrafted: {
      reads: needArticle,
      apply: (event, m) => {
        const { headline, body, byline, desk } = event.data;
        const at = occurredAt(event);
        m.articles.insert(
          {
            id: streamEntityId(event),
            headline,
            byline: byline ?? null,
            desk: desk ?? null,
            status: 'draft',
            body,
            revision: event.revision,
            created_position: event.position,
            created_at: at,
            updated_at: at,
          },
          { onConflict: 'nothing' },
        );
        touch(event, m);
      },
    },
    HeadlineChanged: {
      reads: needArticle,
      apply: (event, m) => {
        m.articles.update({ id: streamEntityId(event) }, { headline: event.data.headline });
        touch(event, m);
      },
    },
    BodyRevised: {
      reads: needArticleAnd('quotes'),
      apply: (event, m) => {
        const id = streamEntityId(event);
        const { body, returnedToDraft } = event.data;
        m.articles.update({ id }, returnedToDraft === true ? { body, status: 'draft' } : { body });
        // As evolve does: live quotes are looked up in the new body; a quote that is gone keeps its last paragraph.
        // (The body is split once, when there is a live quote to look up: findQuoteParagraph for many quotes.)
        let locate: ((text: string) => number | null) | undefined;
        for (const quote of m.quotes.rows({ article_id: id })) {
          if (quote.status === 'withdrawn') continue;
          locate ??= quoteLocator(body);
          const paragraph = locate(quote.text);
          m.quotes.update(quote, { in_body: paragraph !== null, paragraph: paragraph ?? quote.paragraph });
        }
        touch(event, m);
      },
    },
    QuoteAdded: {
      reads: needArticleAnd('quotes'),
      apply: (event, m) => {
        const id = streamEntityId(event);
        const { quoteId, text, speaker, paragraph } = event.data;
        m.quotes.insert(
          { article_id: id, id: quoteId, seq: event.position, text, speaker, paragraph, status: 'unattributed', in_body: true },
          { where: m.articles.has({ id }), onConflict: 'nothing' },
        );
        touch(event, m);
      },
    },
    SourceAttributed: {
      reads: needArticleAnd('quotes'),
      apply: (event, m) => {
        const { quoteId, source, attribution, method } = event.data;
        const snapshot = { id: source.id, name: source.name, title: source.title, organization: source.organization };
        m.quotes.update(
          { article_id: streamEntityId(event), id: quoteId },
          { status: 'attributed', source: JSON.stringify(snapshot), attribution: attribution ?? null, method },
        );
        touch(event, m);
      },
    },
    QuoteWithdrawn: {
      reads: needArticleAnd('quotes'),
      apply: (event, m) => {
        m.quotes.update({ article_id: streamEntityId(event), id: event.data.quoteId }, { status: 'withdrawn' });
        touch(event, m);
      },
    },
    TopicTagged: {
      reads: needArticleAnd('topics'),
      apply: (event, m) => {
        const id = streamEntityId(event);
        m.topics.insert(
          { article_id: id, slug: event.data.slug, label: event.data.label, seq: event.position },
          { where: m.articles.has({ id }), onConflict: 'nothing' },
        );
        touch(event, m);
      },
    },
    TopicUntagged: {
      reads: needArticleAnd('topics'),
      apply: (event, m) => {
        m.topics.delete({ article_id: streamEntityId(event), slug: event.data.slug });
        touch(event, m);
      },
    },
    ClaimRecorded: {
      reads: needArticleAnd('claims'),
      apply: (event, m) => {
        const claim = recordedClaim(event);
        m.claims.insert(claim, { where: m.articles.has({ id: claim.article_id }), onConflict: 'nothing' });
        touch(event, m);
      },
    },
    ClaimVerdictRecorded: {
      reads: needArticleAnd('claims'),
      apply: (event, m) => {
        const { key, patch } = verdictOf(event);
        m.claims.update(key, patch);
        touch(event, m);
      },
    },
    ArticleReturnedToDraft: { reads: needArticle, apply: (event, m) => setStatus(event, m, 'draft') },
    ArticleSubmitted: { reads: needArticle, apply: (event, m) => setStatus(event, m, 'in_review') },
    ArticleApproved: { reads: needArticle, apply: (event, m) => setStatus(event, m, 'approved') },
    ArticlePublished: {
      reads: needArticle,
      apply: (event, m) => {
        const at = occurredAt(event);
        m.articles.update({ id: streamEntityId(event) }, (article) => ({ status: 'published', published_at: article.published_at ?? at }));
        touch(event, m);
      },
    },
    ArticleRetracted: { reads: needArticle, apply: (event, m) => setStatus(event, m, 'retracted') },
    CorrectionIssued: {
      reads: needArticle,
      apply: (event, m) => {
        const id = streamEntityId(event);
        const by = actorOf(event);
        m.corrections.insert(
          { article_id: id, seq: event.position, text: event.data.text, issued_at: occurredAt(event), issued_by_id: by.id, issued_by_name: by.name },
          { where: m.articles.has({ id }) },
        );
        touch(event, m);
      },
    },
  },
});

interface ArticleRow {
  id: string;
  headline: string;
  byline: string | null;
  desk: string | null;
  status: string;
  body: string;
  revision: number;
  created_position: string;
  created_at: string;
  updated_at: string;
  published_at: string | null;
}

interface QuoteRow {
  article_id: string;
  id: string;
  seq: string;
  text: string;
  speaker: string;
  paragraph: number;
  status: string;
  in_body: boolean;
  /** JSON text of the source snapshot. */
  source: string | null;
  attribution: string | null;
  method: string | null;
}

interface TopicRow {
  article_id: string;
  slug: string;
  label: string;
  seq: string;
}


interface CorrectionRow {
  article_id: string;
  seq: string;
  text: string;
  issued_at: string;
  issued_by_id: string;
  issued_by_name: string;
}

interface Model {
  articles: RowSet<ArticleRow>;
  quotes: RowSet<QuoteRow>;
  topics: RowSet<TopicRow>;
  claims: RowSet<ClaimRow>;
  corrections: AppendSet<CorrectionRow>;
}

/** A batch's rows: each article its events name, and its quotes, topics or claims when asked for. */
function model(unit: UnitOfWork): Model {
  return {
    articles: unit.table<ArticleRow>('articles', { loadBy: ['id'] }),
    quotes: unit.table<QuoteRow>('quotes', { loadBy: ['article_id'] }),
    topics: unit.table<TopicRow>('topics', { loadBy: ['article_id'] }),
    claims: unit.table<ClaimRow>('claims', { loadBy: ['article_id'] }),
    corrections: unit.appendOnly<CorrectionRow>('corrections'),
  };
}


/** Every event reads its article (to touch it, or to know it exists). */
function needArticle(event: ProjectedEvent<unknown>, m: Model): void {
  m.articles.need({ id: streamEntityId(event) });
}

function needArticleAnd(table: 'quotes' | 'topics' | 'claims') {
  return (event: ProjectedEvent<unknown>, m: Model): void => {
    needArticle(event, m);
    m[table].need({ article_id: streamEntityId(event) });
  };
}

/** Every event moves the article's revision and updatedAt, as `foldArticle` does. */
function touch(event: ProjectedEvent<unknown>, m: Model): void {
  m.articles.update({ id: streamEntityId(event) }, { revision: event.revision, updated_at: occurredAt(event) });
}

function setStatus(event: ProjectedEvent<unknown>, m: Model, status: string): void {
  m.articles.update({ id: streamEntityId(event) }, { status });
  touch(event, m);
}
