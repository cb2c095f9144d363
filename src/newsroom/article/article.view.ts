import { RecordedEvent } from '../../event-store/event-store';
import { toDomainEvent } from '../event-codec';
import { Who, actorOf, occurredAt } from '../event-provenance';
import { ARTICLE_SNAPSHOT_VERSION, Article, ArticleEvent, ClaimState, Evidence, QuoteState, evolveAll, initialState } from './article.decider';

/*
 * What the read side shows of an article, written once. An `ArticleDocument` is the decider's own
 * state (so the read side can never disagree with what the command side decides on: the quote
 * relocation on BodyRevised, the verdict history, the writers all come from `evolve`) plus who did
 * what when, from the events' metadata. Time travel and diffs fold a stream into one; the articles
 * read model stores one per article and evolves it batch by batch. `articleView` shapes API answers.
 */

/** The article as API.md's `GET /articles/{id}` shows it. */
export interface ArticleView {
  id: string;
  headline: string;
  byline: string | null;
  desk: string | null;
  status: string;
  body: string;
  revision: number;
  createdAt: string;
  updatedAt: string;
  publishedAt: string | null;
  quotes: QuoteView[];
  topics: { slug: string; label: string }[];
  claims: ClaimView[];
  corrections: { text: string; issuedAt: string; issuedBy: Who }[];
}

export interface QuoteView {
  id: string;
  text: string;
  speaker: string;
  paragraph: number;
  status: string;
  inBody: boolean;
  source: { id: string; name: string; title: string | null; organization: string | null } | null;
  attribution: string | null;
  method: string | null;
}

export interface ClaimView {
  id: string;
  text: string;
  quoteId: string | null;
  verdict: string | null;
  evidence: Evidence[];
  note: string | null;
  checkedBy: Who | null;
  checkedAt: string | null;
}

/** Everything the read side shows of an article after an event. Plain JSON: the read model stores it as is. */
export interface ArticleDocument {
  /** The decider's state, as `evolve` left it. */
  article: Article;
  /** The stream revision of the last event folded in. */
  revision: number;
  createdAt: string;
  updatedAt: string;
  /** When it was first published; kept through retraction. */
  publishedAt: string | null;
  /** Who recorded each claim's current verdict, and when. */
  checked: Record<string, { by: Who; at: string }>;
  /** Who issued each correction and when, in the order of `article.corrections`. */
  corrections: { issuedAt: string; issuedBy: Who }[];
  /** Where in the log each claim was recorded: the order of claim lists. */
  recordedAt: Record<string, string>;
  /** Where in the log each attributed quote was (last) attributed: the order of a source's quote list. */
  attributedAt: Record<string, string>;
}

/**
 * The version of the document's shape and contents: the decider's snapshot version (bumped whenever
 * `evolve` or the state changes) plus the document's own shape, both only ever raised, so their sum is
 * too. The articles read model carries it as its version: documents of an older shape are rebuilt.
 */
const ARTICLE_DOCUMENT_SHAPE = 2;
export const ARTICLE_DOCUMENT_VERSION = Number(ARTICLE_SNAPSHOT_VERSION) + ARTICLE_DOCUMENT_SHAPE - 1;

/** An event of the article's stream, its type and data already upcast (`toDomainEvent`). */
export interface ArticleDocumentEvent {
  type: string;
  data: unknown;
  metadata: Record<string, unknown>;
  created: Date;
  revision: number;
  /** Global ($all) position, decimal string. */
  position: string;
}

/** The document after one event; null until the article is drafted. Pure: `doc` is left as it was. */
export function evolveArticleDocument(doc: ArticleDocument | null, event: ArticleDocumentEvent): ArticleDocument | null {
  return foldArticleDocument(doc, [event]);
}

/**
 * `events.reduce(evolveArticleDocument, doc)`, in time linear in the events (the decider's `evolveAll`
 * folds them in one go): how the read model applies a batch to an article.
 */
export function foldArticleDocument(doc: ArticleDocument | null, events: readonly ArticleDocumentEvent[]): ArticleDocument | null {
  let start = 0;
  if (!doc) {
    start = events.findIndex((e) => e.type === 'ArticleDrafted');
    if (start === -1) return null;
  }
  const folded = events.slice(start);
  const article = evolveAll(doc?.article ?? initialState(), folded as unknown as ArticleEvent[]);
  if (article.status === 'none') return null;
  const next: ArticleDocument = doc
    ? { ...doc, article, checked: { ...doc.checked }, corrections: [...doc.corrections], recordedAt: { ...doc.recordedAt }, attributedAt: { ...doc.attributedAt } }
    : { article, revision: 0, createdAt: occurredAt(folded[0]), updatedAt: '', publishedAt: null, checked: {}, corrections: [], recordedAt: {}, attributedAt: {} };
  // A verdict or an attribution counts for a claim or quote that existed when it was recorded, as `evolve` has it.
  const claims = new Set(Object.keys(doc?.article.claims ?? {}));
  const quotes = new Set(Object.keys(doc?.article.quotes ?? {}));
  for (const event of folded) {
    const at = occurredAt(event);
    const data = event.data as { claimId?: string; quoteId?: string };
    if (event.type === 'ClaimRecorded' && !claims.has(String(data.claimId))) {
      claims.add(String(data.claimId));
      next.recordedAt[String(data.claimId)] = event.position;
    }
    if (event.type === 'QuoteAdded') quotes.add(String(data.quoteId));
    if (event.type === 'SourceAttributed' && quotes.has(String(data.quoteId))) next.attributedAt[String(data.quoteId)] = event.position;
    if (event.type === 'ClaimVerdictRecorded' && claims.has(String(data.claimId))) next.checked[String(data.claimId)] = { by: actorOf(event), at };
    if (event.type === 'ArticlePublished') next.publishedAt ??= at;
    if (event.type === 'CorrectionIssued') next.corrections.push({ issuedAt: at, issuedBy: actorOf(event) });
    next.updatedAt = at;
    next.revision = event.revision;
  }
  return next;
}

/** A stream (or its first revisions, for time travel) as the read side shows it; null when no article was drafted. */
export function foldArticleStream(events: readonly RecordedEvent[]): ArticleDocument | null {
  return foldArticleDocument(
    null,
    events.map((recorded) => ({ ...recorded, ...toDomainEvent<ArticleEvent>(recorded) })),
  );
}

/** One quote in API.md's shape (only the API's fields, in its order). */
export function quoteView(q: QuoteState | QuoteView): QuoteView {
  return {
    id: q.id,
    text: q.text,
    speaker: q.speaker,
    paragraph: q.paragraph,
    status: q.status,
    inBody: q.inBody,
    source: q.source ? { id: q.source.id, name: q.source.name, title: q.source.title, organization: q.source.organization } : null,
    attribution: q.attribution ?? null,
    method: q.method ?? null,
  };
}

/** One claim in API.md's shape: its current verdict (the last one) and who recorded it when. */
export function claimView(c: ClaimState, checked: { by: Who; at: string } | undefined): ClaimView {
  const current = c.verdicts.length ? c.verdicts[c.verdicts.length - 1] : null;
  return {
    id: c.id,
    text: c.text,
    quoteId: c.quoteId ?? null,
    verdict: current?.verdict ?? null,
    evidence: current?.evidence ?? [],
    note: current?.note ?? null,
    checkedBy: checked ? { id: checked.by.id, name: checked.by.name } : null,
    checkedAt: checked?.at ?? null,
  };
}

/** `GET /articles/{id}`'s answer. */
export function articleView(doc: ArticleDocument): ArticleView {
  const { article } = doc;
  return {
    id: article.id,
    headline: article.headline,
    byline: article.byline ?? null,
    desk: article.desk ?? null,
    status: article.status,
    body: article.body,
    revision: doc.revision,
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
    publishedAt: doc.publishedAt,
    quotes: article.quoteOrder.map((id) => quoteView(article.quotes[id])),
    topics: article.topics.map((t) => ({ slug: t.slug, label: t.label })),
    claims: article.claimOrder.map((id) => claimView(article.claims[id], doc.checked[id])),
    corrections: article.corrections.map((c, i) => ({
      text: c.text,
      issuedAt: doc.corrections[i].issuedAt,
      issuedBy: { id: doc.corrections[i].issuedBy.id, name: doc.corrections[i].issuedBy.name },
    })),
  };
}
