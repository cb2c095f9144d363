import { quoteLocator } from '../text';
import type {
  ArticleStatus,
  QuoteStatus,
  AttributionMethod,
  Verdict,
  SourceSnapshot,
  Evidence,
  ArticleDrafted,
  HeadlineChanged,
  BodyRevised,
  QuoteAdded,
  SourceAttributed,
  QuoteWithdrawn,
  TopicTagged,
  TopicUntagged,
  ClaimRecorded,
  ArticleReturnedToDraft,
  ClaimVerdictRecorded,
  ArticleSubmitted,
  ArticleApproved,
  ArticlePublished,
  ArticleRetracted,
  CorrectionIssued,
  ArticleEvent,
  ContentEvent,
  ArticleEventType,
} from './article.messages';

/*
 * What an article is after its events: the state the decider decides on, and `evolve`, the one fold
 * of an article's events (the read side's document wraps this state). test/unit/snapshot-version.spec.ts
 * fingerprints this file: a change to it needs a look at ARTICLE_SNAPSHOT_VERSION.
 */

// ───────────────────────────────────────────────────────────────────── state ──

export interface QuoteState {
  id: string;
  text: string;
  speaker: string;
  paragraph: number;
  status: QuoteStatus;
  inBody: boolean;
  source: SourceSnapshot | null;
  attribution: string | null;
  method: AttributionMethod | null;
  withdrawnReason: string | null;
}

export interface VerdictEntry {
  verdict: Verdict;
  evidence: Evidence[];
  note: string | null;
}

export interface ClaimState {
  id: string;
  text: string;
  quoteId: string | null;
  /** Oldest first; the last entry is the current verdict. */
  verdicts: VerdictEntry[];
}

export interface Topic {
  slug: string;
  label: string;
}

export type NoArticle = { status: 'none' };

// Plain objects and arrays only, so the state serialises to JSON for time travel and diffs. Topics are an
// array rather than a record because integer-like keys ("2024") would not keep insertion order.
export type Article = {
  status: ArticleStatus;
  id: string;
  headline: string;
  byline: string | null;
  desk: string | null;
  body: string;
  quotes: Record<string, QuoteState>;
  quoteOrder: string[];
  topics: Topic[];
  claims: Record<string, ClaimState>;
  claimOrder: string[];
  corrections: { text: string }[];
  submittedBy: string | null;
  /**
   * Everyone who drafted the article or changed its content, ever, in the order they first did: the
   * content under review is all of it (an article is only reviewed before it is first published).
   */
  writers: string[];
  publishedOnce: boolean;
  retractionReason: string | null;
};

export type ArticleState = NoArticle | Article;

export const initialState = (): ArticleState => ({ status: 'none' });

// ──────────────────────────────────────────────────────────────────── evolve ──

/**
 * The version of the article state as `evolve` builds it. Snapshots of the state (a cache the command
 * executor keeps in PostgreSQL) carry it, and one with another version is ignored, never trusted.
 * Bump it whenever `evolve`, anything it calls (the quote matching in ../text.ts) or the state's
 * shape changes; test/unit/snapshot-version.spec.ts fails when those change without a bump.
 */
export const ARTICLE_SNAPSHOT_VERSION = '2';

// evolve never throws: decide never writes an event that refers to something missing, and time travel
// must still be able to fold a stream if one ever did.
export function evolve(state: ArticleState, event: ArticleEvent): ArticleState {
  return evolveAll(state, [event]);
}

/**
 * `events.reduce(evolve, state)`, in time linear in the events. Copying the whole state per event (the
 * quotes record, the order arrays) made folding a long article quadratic; here the fold works on a
 * copy it owns (see {@link ArticleDraft}), so the state passed in, and every object it shares with the
 * result, stays exactly as it was: to its callers this is as pure as `evolve`.
 */
export function evolveAll(state: ArticleState, events: Iterable<ArticleEvent>): ArticleState {
  let current = state;
  let draft: ArticleDraft | null = null;
  for (const event of events) {
    if (event.type === 'ArticleDrafted') {
      if (current.status !== 'none') continue;
      current = drafted(event.data);
      draft = new ArticleDraft(current, true);
      continue;
    }
    if (current.status === 'none') continue;
    draft ??= new ArticleDraft(current, false);
    current = draft.article;
    apply(draft, event);
  }
  return current;
}

function drafted({ articleId, headline, body, byline, desk, by }: ArticleDrafted['data']): Article {
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

const CONTAINERS = ['quotes', 'quoteOrder', 'topics', 'claims', 'claimOrder', 'corrections', 'writers'] as const;
type Container = (typeof CONTAINERS)[number];

/**
 * The article one fold is building. It starts as a shallow copy of the state the fold began with; a
 * container (record or array) is copied the first time the fold writes to it and written in place
 * after that. Objects inside containers (quotes, claims, topics) are never changed, only replaced, so
 * they can be shared with the state the fold began with.
 */
class ArticleDraft {
  readonly article: Article;
  private readonly owned: Set<Container>;

  constructor(from: Article, ownsEverything: boolean) {
    this.article = ownsEverything ? from : { ...from };
    this.owned = new Set(ownsEverything ? CONTAINERS : []);
  }

  /** The container, safe to write to. */
  own<K extends Container>(key: K): Article[K] {
    if (!this.owned.has(key)) {
      const value: unknown = this.article[key];
      this.article[key] = (Array.isArray(value) ? [...value] : { ...(value as object) }) as Article[K];
      this.owned.add(key);
    }
    return this.article[key];
  }

  /** A container the fold has just built anew. */
  replace<K extends Container>(key: K, value: Article[K]): void {
    this.article[key] = value;
    this.owned.add(key);
  }

  updateQuote(quoteId: string, update: (q: QuoteState) => QuoteState): void {
    const quote = this.article.quotes[quoteId];
    if (quote) this.own('quotes')[quoteId] = update(quote);
  }

  addWriter(by: unknown): void {
    if (typeof by === 'string' && !this.article.writers.includes(by)) this.own('writers').push(by);
  }
}

function apply(draft: ArticleDraft, event: Exclude<ArticleEvent, ArticleDrafted>): void {
  const article = draft.article;
  if (isContentEvent(event)) draft.addWriter(event.data.by);
  switch (event.type) {
    case 'HeadlineChanged':
      article.headline = event.data.headline;
      return;
    case 'BodyRevised': {
      const { body, returnedToDraft } = event.data;
      // The body is normalised once per revision, not once per quote; a quote that is gone keeps its paragraph.
      const locate = quoteLocator(body);
      for (const id of Object.keys(article.quotes)) {
        const quote = article.quotes[id];
        if (quote.status === 'withdrawn') continue;
        const found = locate(quote.text);
        const inBody = found !== null;
        const paragraph = found ?? quote.paragraph;
        if (quote.inBody !== inBody || quote.paragraph !== paragraph) draft.own('quotes')[id] = { ...quote, inBody, paragraph };
      }
      article.body = body;
      if (returnedToDraft) {
        article.status = 'draft';
        article.submittedBy = null;
      }
      return;
    }
    case 'QuoteAdded': {
      const { quoteId, text, speaker, paragraph } = event.data;
      if (article.quotes[quoteId]) return;
      draft.own('quotes')[quoteId] = {
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
      draft.own('quoteOrder').push(quoteId);
      return;
    }
    case 'SourceAttributed': {
      const { quoteId, source, attribution, method } = event.data;
      draft.updateQuote(quoteId, (q) => ({ ...q, status: 'attributed', source, attribution, method }));
      return;
    }
    case 'QuoteWithdrawn':
      draft.updateQuote(event.data.quoteId, (q) => ({ ...q, status: 'withdrawn', withdrawnReason: event.data.reason }));
      return;
    case 'TopicTagged': {
      const { slug, label } = event.data;
      if (article.topics.some((t) => t.slug === slug)) return;
      draft.own('topics').push({ slug, label });
      return;
    }
    case 'TopicUntagged':
      draft.replace('topics', article.topics.filter((t) => t.slug !== event.data.slug));
      return;
    case 'ClaimRecorded': {
      const { claimId, text, quoteId } = event.data;
      if (article.claims[claimId]) return;
      draft.own('claims')[claimId] = { id: claimId, text, quoteId, verdicts: [] };
      draft.own('claimOrder').push(claimId);
      return;
    }
    case 'ClaimVerdictRecorded': {
      const { claimId, verdict, evidence, note } = event.data;
      const claim = article.claims[claimId];
      if (!claim) return;
      draft.own('claims')[claimId] = { ...claim, verdicts: [...claim.verdicts, { verdict, evidence, note }] };
      return;
    }
    case 'ArticleReturnedToDraft':
      article.status = 'draft';
      article.submittedBy = null;
      return;
    case 'ArticleSubmitted':
      article.status = 'in_review';
      article.submittedBy = event.data.submittedBy;
      return;
    case 'ArticleApproved':
      article.status = 'approved';
      return;
    case 'ArticlePublished':
      article.status = 'published';
      article.publishedOnce = true;
      return;
    case 'ArticleRetracted':
      article.status = 'retracted';
      article.retractionReason = event.data.reason;
      return;
    case 'CorrectionIssued':
      draft.own('corrections').push({ text: event.data.text });
      return;
    default:
      return unreachable(event);
  }
}

const CONTENT_EVENT_TYPES: ReadonlySet<ArticleEventType> = new Set<ContentEvent['type']>([
  'ArticleDrafted',
  'HeadlineChanged',
  'BodyRevised',
  'QuoteAdded',
  'SourceAttributed',
  'QuoteWithdrawn',
  'ClaimRecorded',
]);

export const isContentEvent = (event: ArticleEvent): event is ContentEvent => CONTENT_EVENT_TYPES.has(event.type);

/** The exhaustive switches' `never` check. */
export function unreachable(value: never): never {
  throw new Error(`Unhandled article message: ${JSON.stringify(value)}`);
}
