/**
 * The article as a team would write it with Emmett, for the bench mix's commands only: events, state,
 * evolve, decide (Emmett's Decider shape), with the same rules Copydesk's decider applies to them.
 */
import { EmmettError, type Command, type Event } from '@event-driven-io/emmett';

export type ArticleDrafted = Event<'ArticleDrafted', { articleId: string; headline: string; body: string; byline: string | null }>;
export type QuoteAdded = Event<'QuoteAdded', { quoteId: string; text: string; speaker: string | null }>;
export type QuoteAttributed = Event<'QuoteAttributed', { quoteId: string; source: SourceSnapshot; attribution: string | null; method: string }>;
export type ClaimRecorded = Event<'ClaimRecorded', { claimId: string; text: string; quoteId: string | null }>;
export type TopicTagged = Event<'TopicTagged', { slug: string; label: string }>;
export type ArticleEvent = ArticleDrafted | QuoteAdded | QuoteAttributed | ClaimRecorded | TopicTagged;

export type SourceSnapshot = { id: string; name: string };

type Meta = { actor: string; now: string };
export type DraftArticle = Command<'DraftArticle', ArticleDrafted['data'], Meta>;
export type AddQuote = Command<'AddQuote', QuoteAdded['data'], Meta>;
export type AttributeQuote = Command<'AttributeQuote', { quoteId: string; source: SourceSnapshot | null; attribution: string | null; method: string }, Meta>;
export type RecordClaim = Command<'RecordClaim', ClaimRecorded['data'], Meta>;
export type TagTopic = Command<'TagTopic', { label: string }, Meta>;
export type ArticleCommand = DraftArticle | AddQuote | AttributeQuote | RecordClaim | TagTopic;

export type Article =
  | { status: 'none' }
  | { status: 'draft'; id: string; body: string; quotes: Record<string, { text: string; attributed: boolean }>; claims: string[]; topics: string[] };

export const initialState = (): Article => ({ status: 'none' });

export function evolve(state: Article, event: ArticleEvent): Article {
  switch (event.type) {
    case 'ArticleDrafted':
      return { status: 'draft', id: event.data.articleId, body: event.data.body, quotes: {}, claims: [], topics: [] };
    case 'QuoteAdded':
      if (state.status === 'none') return state;
      return { ...state, quotes: { ...state.quotes, [event.data.quoteId]: { text: event.data.text, attributed: false } } };
    case 'QuoteAttributed':
      if (state.status === 'none') return state;
      return { ...state, quotes: { ...state.quotes, [event.data.quoteId]: { ...state.quotes[event.data.quoteId], attributed: true } } };
    case 'ClaimRecorded':
      if (state.status === 'none') return state;
      return { ...state, claims: [...state.claims, event.data.claimId] };
    case 'TopicTagged':
      if (state.status === 'none') return state;
      return { ...state, topics: [...state.topics, event.data.slug] };
    default: {
      const _: never = event;
      return state;
    }
  }
}

/** A refusal, with the HTTP status Emmett's error mapping answers it with. */
export class Refused extends EmmettError {
  constructor(
    readonly type: string,
    status: number,
    message: string,
  ) {
    super({ errorCode: status, message });
  }

  static is(error: unknown): error is Refused & { errorCode: number } {
    return error instanceof EmmettError && typeof (error as { type?: unknown }).type === 'string';
  }
}

const slugOf = (label: string) =>
  label
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, '-')
    .replace(/^-+|-+$/g, '');
const normalise = (text: string) => text.replace(/\s+/g, ' ').trim();

export function decide(command: ArticleCommand, state: Article): ArticleEvent[] {
  if (command.type === 'DraftArticle') {
    if (state.status !== 'none') throw new Refused('article-exists', 409, 'Article exists');
    return [{ type: 'ArticleDrafted', data: command.data }];
  }
  if (state.status === 'none') throw new Refused('article-not-found', 404, 'Article not found');
  switch (command.type) {
    case 'AddQuote': {
      if (state.quotes[command.data.quoteId]) throw new Refused('quote-exists', 409, 'Quote exists');
      if (!normalise(state.body).includes(normalise(command.data.text))) throw new Refused('quote-not-in-body', 422, 'The quote is not in the body');
      return [{ type: 'QuoteAdded', data: command.data }];
    }
    case 'AttributeQuote': {
      if (!state.quotes[command.data.quoteId]) throw new Refused('quote-not-found', 404, 'Quote not found');
      if (!command.data.source) throw new Refused('unknown-source', 422, 'No such source');
      return [{ type: 'QuoteAttributed', data: { ...command.data, source: command.data.source } }];
    }
    case 'RecordClaim': {
      if (state.claims.includes(command.data.claimId)) throw new Refused('claim-exists', 409, 'Claim exists');
      if (command.data.quoteId !== null && !state.quotes[command.data.quoteId]) throw new Refused('unknown-quote', 422, 'No such quote');
      return [{ type: 'ClaimRecorded', data: command.data }];
    }
    case 'TagTopic': {
      const slug = slugOf(command.data.label);
      if (!slug) throw new Refused('invalid-topic', 422, 'A topic needs a letter or digit');
      if (state.topics.includes(slug)) return [];
      return [{ type: 'TopicTagged', data: { slug, label: command.data.label } }];
    }
    default: {
      const _: never = command;
      throw new Error('unknown command');
    }
  }
}

// ─────────────────────────────────────────────────────────────── the source ──

export type SourceRegistered = Event<'SourceRegistered', { sourceId: string; name: string; kind: string; title: string | null }>;
export type Source = { status: 'none' } | { status: 'registered'; id: string; name: string };
export const initialSource = (): Source => ({ status: 'none' });
export const evolveSource = (_: Source, event: SourceRegistered): Source => ({ status: 'registered', id: event.data.sourceId, name: event.data.name });

// ───────────────────────────────────────────── the article's read model (pongo) ──

export type ArticleDocument = {
  _id?: string;
  id: string;
  headline: string;
  body: string;
  byline: string | null;
  quotes: { quoteId: string; text: string; speaker: string | null; source: SourceSnapshot | null }[];
  claims: { claimId: string; text: string }[];
  topics: string[];
};

export function evolveDocument(document: ArticleDocument | null, { type, data }: ArticleEvent): ArticleDocument | null {
  if (type === 'ArticleDrafted') return { id: data.articleId, headline: data.headline, body: data.body, byline: data.byline, quotes: [], claims: [], topics: [] };
  if (!document) return null;
  switch (type) {
    case 'QuoteAdded':
      return { ...document, quotes: [...document.quotes, { quoteId: data.quoteId, text: data.text, speaker: data.speaker, source: null }] };
    case 'QuoteAttributed':
      return { ...document, quotes: document.quotes.map((q) => (q.quoteId === data.quoteId ? { ...q, source: data.source } : q)) };
    case 'ClaimRecorded':
      return { ...document, claims: [...document.claims, { claimId: data.claimId, text: data.text }] };
    case 'TopicTagged':
      return { ...document, topics: [...document.topics, data.slug] };
  }
}
