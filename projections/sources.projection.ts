import { ProjectedEvent, streamEntityId } from './projection';
import { RowSet, UnitOfWork, setBasedProjection } from './row-set';

/**
 * `sources`: the source directory with, for each source, the quotes attributed to it across
 * articles. Quotes are tracked from `QuoteAdded` (the attribution event does not carry the text),
 * and article headlines are kept here so that a quote's headline stays current.
 *
 * Set-based (see row-set.ts): one SELECT for the sources, articles and quotes a batch names, the
 * events applied in memory, one statement for what changed.
 */
export const sourcesProjection = setBasedProjection({
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
  model,
  handlers: {
    SourceRegistered: {
      reads: needSource,
      apply: (event, m) => {
        const { name, kind, title, organization } = event.data;
        m.sources.insert(
          { id: streamEntityId(event), name, kind, title: title ?? null, organization: organization ?? null, revision: event.revision },
          { onConflict: (_, excluded) => ({ revision: excluded.revision }) },
        );
      },
    },
    SourceUpdated: {
      reads: needSource,
      apply: (event, m) => {
        const { data } = event;
        // Only the fields the event carries change; title and organization may change to null.
        m.sources.update(
          { id: streamEntityId(event) },
          {
            ...(typeof data.name === 'string' ? { name: data.name } : {}),
            ...('title' in data ? { title: data.title ?? null } : {}),
            ...('organization' in data ? { organization: data.organization ?? null } : {}),
            revision: event.revision,
          },
        );
      },
    },
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
    QuoteAdded: {
      reads: needQuotes,
      apply: (event, m) => {
        m.quotes.insert(
          { article_id: streamEntityId(event), quote_id: event.data.quoteId, text: event.data.text, status: 'unattributed' },
          { onConflict: 'nothing' },
        );
      },
    },
    SourceAttributed: {
      reads: needQuotes,
      apply: (event, m) => {
        const { quoteId, source, attribution, method } = event.data;
        // A re-attribution moves the quote to the new source, at the top of its list.
        m.quotes.update(
          { article_id: streamEntityId(event), quote_id: quoteId },
          { status: 'attributed', source_id: source.id, attribution: attribution ?? null, method, attributed_at: event.position },
        );
      },
    },
    QuoteWithdrawn: {
      reads: needQuotes,
      apply: (event, m) => {
        m.quotes.update({ article_id: streamEntityId(event), quote_id: event.data.quoteId }, { status: 'withdrawn' });
      },
    },
  },
});

interface SourceRow {
  id: string;
  name: string;
  kind: string;
  title: string | null;
  organization: string | null;
  revision: number;
}

interface ArticleRow {
  id: string;
  headline: string;
}

interface QuoteRow {
  article_id: string;
  quote_id: string;
  text: string;
  status: string;
  source_id: string | null;
  attribution: string | null;
  method: string | null;
  attributed_at: string | null;
}

interface Model {
  sources: RowSet<SourceRow>;
  articles: RowSet<ArticleRow>;
  quotes: RowSet<QuoteRow>;
}

function model(unit: UnitOfWork): Model {
  return {
    sources: unit.table<SourceRow>('sources', { loadBy: ['id'] }),
    articles: unit.table<ArticleRow>('articles', { loadBy: ['id'] }),
    quotes: unit.table<QuoteRow>('quotes', { loadBy: ['article_id'] }),
  };
}

function needSource(event: ProjectedEvent<unknown>, m: Model): void {
  m.sources.need({ id: streamEntityId(event) });
}

function needArticle(event: ProjectedEvent<unknown>, m: Model): void {
  m.articles.need({ id: streamEntityId(event) });
}

function needQuotes(event: ProjectedEvent<unknown>, m: Model): void {
  m.quotes.need({ article_id: streamEntityId(event) });
}
