import { RecordedEvent, comparePositions } from '../../src/event-store/event-store';

/**
 * What the read models must show for a log, folded here from the events alone, independently of
 * the projections: an oracle for specs that check the read models through the API.
 */
export interface ExpectedModels {
  articles: Map<string, { revision: number; topics: string[]; claims: Map<string, string | null>; quotes: Map<string, { status: string; sourceId: string | null }> }>;
  /** Claim id → its article and current verdict. */
  /** Keyed `<article id> <claim id>`: a claim id is unique within its article (ids derived from an actor's keys can repeat across articles). */
  claims: Map<string, { articleId: string; verdict: string | null }>;
  /** Topics carried by at least one article: slug → label as first tagged, and how many articles carry it. */
  topics: Map<string, { label: string; articleCount: number }>;
  /** Source id → the quotes attributed to it now (any status), by quote id. */
  sourceQuotes: Map<string, Map<string, string>>;
  /** Every event's position. */
  positions: string[];
}

const entityOf = (streamId: string) => streamId.slice(streamId.indexOf('-') + 1);

export function foldLog(log: RecordedEvent[]): ExpectedModels {
  const events = [...log].sort((a, b) => comparePositions(a.position, b.position));
  const articles: ExpectedModels['articles'] = new Map();
  const labels = new Map<string, string>();
  const quoteSources = new Map<string, { articleId: string; sourceId: string | null; status: string }>();
  for (const event of events) {
    if (!event.streamId.startsWith('article-')) continue;
    const id = entityOf(event.streamId);
    const data = event.data as Record<string, any>;
    if (event.type === 'ArticleDrafted') articles.set(id, { revision: 0, topics: [], claims: new Map(), quotes: new Map() });
    const article = articles.get(id);
    if (!article) continue;
    article.revision = event.revision;
    switch (event.type) {
      case 'TopicTagged':
        if (!labels.has(data.slug)) labels.set(data.slug, data.label);
        if (!article.topics.includes(data.slug)) article.topics.push(data.slug);
        break;
      case 'TopicUntagged':
        article.topics = article.topics.filter((slug) => slug !== data.slug);
        break;
      case 'ClaimRecorded':
        article.claims.set(data.claimId, null);
        break;
      case 'ClaimVerdictRecorded':
        article.claims.set(data.claimId, data.verdict);
        break;
      case 'QuoteAdded':
        article.quotes.set(data.quoteId, { status: 'unattributed', sourceId: null });
        quoteSources.set(data.quoteId, { articleId: id, sourceId: null, status: 'unattributed' });
        break;
      case 'SourceAttributed':
        article.quotes.set(data.quoteId, { status: 'attributed', sourceId: data.source.id });
        quoteSources.set(data.quoteId, { articleId: id, sourceId: data.source.id, status: 'attributed' });
        break;
      case 'QuoteWithdrawn': {
        const quote = article.quotes.get(data.quoteId)!;
        article.quotes.set(data.quoteId, { ...quote, status: 'withdrawn' });
        quoteSources.set(data.quoteId, { ...quoteSources.get(data.quoteId)!, status: 'withdrawn' });
        break;
      }
    }
  }
  const claims: ExpectedModels['claims'] = new Map();
  const topics: ExpectedModels['topics'] = new Map();
  for (const [articleId, article] of articles) {
    for (const [claimId, verdict] of article.claims) claims.set(`${articleId} ${claimId}`, { articleId, verdict });
    for (const slug of article.topics) topics.set(slug, { label: labels.get(slug)!, articleCount: (topics.get(slug)?.articleCount ?? 0) + 1 });
  }
  const sourceQuotes: ExpectedModels['sourceQuotes'] = new Map();
  for (const event of events) if (event.type === 'SourceRegistered') sourceQuotes.set(entityOf(event.streamId), new Map());
  for (const [quoteId, quote] of quoteSources) if (quote.sourceId) sourceQuotes.get(quote.sourceId)?.set(quoteId, quote.status);
  return { articles, claims, topics, sourceQuotes, positions: events.map((e) => e.position) };
}
