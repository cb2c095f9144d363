import type { Article, ArticleEvent, ArticleState, ClaimState, QuoteState } from '../../src/newsroom/article/article.decider';
import { normaliseWhitespace, splitParagraphs } from '../../src/newsroom/text';

/*
 * The article decider's `evolve` as it was before folding became linear: one whole-state copy per
 * event, the body re-normalised for every quote (with the quote lookup as it was, too). Slow and obviously pure, it is the oracle the linear
 * fold (`evolveAll`) is checked against in test/unit/article-fold.spec.ts. Do not "fix" it to match:
 * when the fold's meaning changes on purpose, change both, and bump ARTICLE_SNAPSHOT_VERSION.
 */

export function referenceEvolve(state: ArticleState, event: ArticleEvent): ArticleState {
  if (event.type === 'ArticleDrafted') {
    if (state.status !== 'none') return state;
    const { articleId, headline, body, byline, desk, by } = event.data;
    return {
      status: 'draft',
      id: articleId,
      headline,
      byline,
      desk,
      body,
      quotes: {},
      quoteOrder: [],
      topics: [],
      claims: {},
      claimOrder: [],
      corrections: [],
      submittedBy: null,
      writers: typeof by === 'string' ? [by] : [],
      publishedOnce: false,
      retractionReason: null,
    };
  }
  if (state.status === 'none') return state;
  return apply(withWriter(state, event), event);
}

const CONTENT = ['HeadlineChanged', 'BodyRevised', 'QuoteAdded', 'SourceAttributed', 'QuoteWithdrawn', 'ClaimRecorded'];

function withWriter(state: Article, event: ArticleEvent): Article {
  if (!CONTENT.includes(event.type)) return state;
  const by = (event.data as { by?: unknown }).by;
  return typeof by === 'string' && !state.writers.includes(by) ? { ...state, writers: [...state.writers, by] } : state;
}

function apply(state: Article, event: Exclude<ArticleEvent, { type: 'ArticleDrafted' }>): Article {
  switch (event.type) {
    case 'HeadlineChanged':
      return { ...state, headline: event.data.headline };
    case 'BodyRevised': {
      const { body, returnedToDraft } = event.data;
      const quotes: Record<string, QuoteState> = {};
      for (const [id, quote] of Object.entries(state.quotes)) {
        if (quote.status === 'withdrawn') {
          quotes[id] = quote;
          continue;
        }
        const paragraph = findQuoteParagraph(body, quote.text);
        quotes[id] = { ...quote, inBody: paragraph !== null, paragraph: paragraph ?? quote.paragraph };
      }
      return returnedToDraft
        ? { ...state, body, quotes, status: 'draft', submittedBy: null }
        : { ...state, body, quotes };
    }
    case 'QuoteAdded': {
      const { quoteId, text, speaker, paragraph } = event.data;
      if (state.quotes[quoteId]) return state;
      const quote: QuoteState = {
        id: quoteId,
        text,
        speaker,
        paragraph,
        status: 'unattributed',
        inBody: true,
        source: null,
        attribution: null,
        method: null,
        withdrawnReason: null,
      };
      return { ...state, quotes: { ...state.quotes, [quoteId]: quote }, quoteOrder: [...state.quoteOrder, quoteId] };
    }
    case 'SourceAttributed': {
      const { quoteId, source, attribution, method } = event.data;
      return updateQuote(state, quoteId, (q) => ({ ...q, status: 'attributed', source, attribution, method }));
    }
    case 'QuoteWithdrawn':
      return updateQuote(state, event.data.quoteId, (q) => ({
        ...q,
        status: 'withdrawn',
        withdrawnReason: event.data.reason,
      }));
    case 'TopicTagged': {
      const { slug, label } = event.data;
      if (state.topics.some((t) => t.slug === slug)) return state;
      return { ...state, topics: [...state.topics, { slug, label }] };
    }
    case 'TopicUntagged':
      return { ...state, topics: state.topics.filter((t) => t.slug !== event.data.slug) };
    case 'ClaimRecorded': {
      const { claimId, text, quoteId } = event.data;
      if (state.claims[claimId]) return state;
      return {
        ...state,
        claims: { ...state.claims, [claimId]: { id: claimId, text, quoteId, verdicts: [] } },
        claimOrder: [...state.claimOrder, claimId],
      };
    }
    case 'ClaimVerdictRecorded': {
      const { claimId, verdict, evidence, note } = event.data;
      const claim = state.claims[claimId];
      if (!claim) return state;
      const updated: ClaimState = { ...claim, verdicts: [...claim.verdicts, { verdict, evidence, note }] };
      return { ...state, claims: { ...state.claims, [claimId]: updated } };
    }
    case 'ArticleReturnedToDraft':
      return { ...state, status: 'draft', submittedBy: null };
    case 'ArticleSubmitted':
      return { ...state, status: 'in_review', submittedBy: event.data.submittedBy };
    case 'ArticleApproved':
      return { ...state, status: 'approved' };
    case 'ArticlePublished':
      return { ...state, status: 'published', publishedOnce: true };
    case 'ArticleRetracted':
      return { ...state, status: 'retracted', retractionReason: event.data.reason };
    case 'CorrectionIssued':
      return { ...state, corrections: [...state.corrections, { text: event.data.text }] };
    default:
      return unreachable(event);
  }
}

function updateQuote(state: Article, quoteId: string, update: (q: QuoteState) => QuoteState): Article {
  const quote = state.quotes[quoteId];
  if (!quote) return state;
  return { ...state, quotes: { ...state.quotes, [quoteId]: update(quote) } };
}

function unreachable(value: never): never {
  throw new Error(`Unhandled article event: ${JSON.stringify(value)}`);
}

function findQuoteParagraph(body: string, quoteText: string): number | null {
  const quote = normaliseWhitespace(quoteText);
  if (quote === '') return null;
  const paragraphs = splitParagraphs(body).map(normaliseWhitespace);

  const within = paragraphs.findIndex((p) => p.includes(quote));
  if (within !== -1) return within;

  const at = paragraphs.join(' ').indexOf(quote);
  if (at === -1) return null;
  let end = 0;
  for (let i = 0; i < paragraphs.length; i++) {
    end += paragraphs[i].length;
    if (at < end) return i;
    end += 1; // the joining space
  }
  return null;
}
