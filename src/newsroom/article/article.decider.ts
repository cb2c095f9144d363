import type { CommandMetadata } from '../actor';
import { DomainError } from '../domain-error';
import { findQuoteParagraph, normaliseWhitespace, quoteLocator, slugify } from '../text';
import { isBlank } from '../typography';
import { quoteNotInBody } from './quote-not-in-body';
import { PublishBlocker, blockersAdded, publishBlockers } from './publish-gate';
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
  DraftArticle,
  ChangeHeadline,
  ReviseBody,
  AddQuote,
  AttributeQuote,
  WithdrawQuote,
  TagTopic,
  UntagTopic,
  RecordClaim,
  RecordVerdict,
  SubmitArticle,
  ApproveArticle,
  PublishArticle,
  RetractArticle,
  IssueCorrection,
  ArticleCommand,
} from './article.messages';

export { publishBlockers } from './publish-gate';
export type { PublishBlocker } from './publish-gate';

export * from './article.messages';

export const articleStream = (id: string): string => `article-${id}`;

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

// ──────────────────────────────────────────────────────────────────── decide ──

export function decide(command: ArticleCommand, state: ArticleState): ArticleEvent[] {
  if (command.type === 'DraftArticle') return draftArticle(command, state);

  if (state.status === 'none') {
    throw new DomainError('article-not-found', 'Article not found');
  }
  if (state.status === 'retracted') {
    throw new DomainError('article-retracted', `Article ${state.id} has been retracted and can no longer change`);
  }

  switch (command.type) {
    case 'ChangeHeadline':
      return changeHeadline(command, state);
    case 'ReviseBody':
      return reviseBody(command, state);
    case 'AddQuote':
      return addQuote(command, state);
    case 'AttributeQuote':
      return attributeQuote(command, state);
    case 'WithdrawQuote':
      return withdrawQuote(command, state);
    case 'TagTopic':
      return tagTopic(command, state);
    case 'UntagTopic':
      return untagTopic(command, state);
    case 'RecordClaim':
      return recordClaim(command, state);
    case 'RecordVerdict':
      return recordVerdict(command, state);
    case 'SubmitArticle':
      return submitArticle(command, state);
    case 'ApproveArticle':
      return approveArticle(command, state);
    case 'PublishArticle':
      return publishArticle(command, state);
    case 'RetractArticle':
      return retractArticle(command, state);
    case 'IssueCorrection':
      return issueCorrection(command, state);
    default:
      return unreachable(command);
  }
}

function draftArticle({ data, metadata }: DraftArticle, state: ArticleState): ArticleEvent[] {
  if (state.status !== 'none') {
    throw new DomainError('article-exists', `Article ${data.articleId} already exists`);
  }
  return [
    {
      type: 'ArticleDrafted',
      data: {
        articleId: data.articleId,
        headline: data.headline,
        body: data.body,
        byline: data.byline ?? null,
        desk: data.desk ?? null,
        by: metadata.actor.id,
      },
    },
  ];
}

function changeHeadline({ data, metadata }: ChangeHeadline, state: Article): ArticleEvent[] {
  if (data.headline === state.headline) return [];
  const reason = given(data.reason);
  return reviewed(state, metadata, { what: 'headline', reason }, [
    { type: 'HeadlineChanged', data: { headline: data.headline, ...withReason(reason), by: metadata.actor.id } },
  ]);
}

function reviseBody({ data, metadata }: ReviseBody, state: Article): ArticleEvent[] {
  if (data.body === state.body) return [];
  const reason = given(data.reason);
  return reviewed(state, metadata, { what: 'body', reason }, [
    { type: 'BodyRevised', data: { body: data.body, ...withReason(reason), by: metadata.actor.id } },
  ]);
}

function addQuote({ data, metadata }: AddQuote, state: Article): ArticleEvent[] {
  if (state.quotes[data.quoteId]) {
    throw new DomainError('quote-exists', `Quote ${data.quoteId} already exists`);
  }
  const paragraph = findQuoteParagraph(state.body, data.text);
  if (paragraph === null) {
    throw quoteNotInBody(state.body, data.text);
  }
  // No reason can make this pass on a published article: a new quote is live and unattributed.
  return reviewed(state, metadata, { what: 'quotes', reason: undefined }, [
    { type: 'QuoteAdded', data: { quoteId: data.quoteId, text: data.text, speaker: data.speaker, paragraph, by: metadata.actor.id } },
  ]);
}

function attributeQuote({ data, metadata }: AttributeQuote, state: Article): ArticleEvent[] {
  const quote = requireQuote(state, data.quoteId);
  if (quote.status === 'withdrawn') {
    throw new DomainError('quote-withdrawn', `Quote ${quote.id} has been withdrawn`);
  }
  if (data.source === null) {
    throw new DomainError('unknown-source', 'No such source is registered');
  }
  const attribution = data.attribution ?? null;
  if (
    quote.status === 'attributed' &&
    quote.source?.id === data.source.id &&
    quote.attribution === attribution &&
    quote.method === data.method
  ) {
    return [];
  }
  const reason = given(data.reason);
  return reviewed(state, metadata, { what: 'attribution', reason }, [
    {
      type: 'SourceAttributed',
      data: { quoteId: quote.id, source: data.source, attribution, method: data.method, ...withReason(reason), by: metadata.actor.id },
    },
  ]);
}

function withdrawQuote({ data, metadata }: WithdrawQuote, state: Article): ArticleEvent[] {
  const quote = requireQuote(state, data.quoteId);
  if (quote.status === 'withdrawn') {
    throw new DomainError('quote-withdrawn', `Quote ${quote.id} has already been withdrawn`);
  }
  return reviewed(state, metadata, { what: 'quotes', reason: given(data.reason) }, [
    { type: 'QuoteWithdrawn', data: { quoteId: quote.id, reason: data.reason, by: metadata.actor.id } },
  ]);
}

function tagTopic({ data }: TagTopic, state: Article): ArticleEvent[] {
  const slug = slugify(data.label);
  if (slug === '') {
    throw new DomainError('invalid-topic', 'A topic needs at least one letter or digit');
  }
  if (state.topics.some((t) => t.slug === slug)) return [];
  return [{ type: 'TopicTagged', data: { slug, label: normaliseWhitespace(data.label) } }];
}

function untagTopic({ data }: UntagTopic, state: Article): ArticleEvent[] {
  if (!state.topics.some((t) => t.slug === data.slug)) {
    throw new DomainError('topic-not-tagged', `The article is not tagged with topic "${data.slug}"`);
  }
  return [{ type: 'TopicUntagged', data: { slug: data.slug } }];
}

function recordClaim({ data, metadata }: RecordClaim, state: Article): ArticleEvent[] {
  if (state.claims[data.claimId]) {
    throw new DomainError('claim-exists', `Claim ${data.claimId} already exists`);
  }
  const quoteId = data.quoteId ?? null;
  if (quoteId !== null && !state.quotes[quoteId]) {
    throw new DomainError('unknown-quote', `The article has no quote ${quoteId}`);
  }
  // No reason can make this pass on a published article: a new claim is live without a verdict.
  return reviewed(state, metadata, { what: 'claims', reason: undefined }, [
    { type: 'ClaimRecorded', data: { claimId: data.claimId, text: data.text, quoteId, by: metadata.actor.id } },
  ]);
}

function recordVerdict({ data }: RecordVerdict, state: Article): ArticleEvent[] {
  if (!state.claims[data.claimId]) {
    throw new DomainError('claim-not-found', `Claim ${data.claimId} not found`);
  }
  if (data.evidence.length === 0 && data.verdict !== 'unverifiable') {
    throw new DomainError('evidence-required', `A "${data.verdict}" verdict needs at least one piece of evidence`);
  }
  return [
    {
      type: 'ClaimVerdictRecorded',
      data: { claimId: data.claimId, verdict: data.verdict, evidence: data.evidence, note: data.note ?? null },
    },
  ];
}

function submitArticle({ metadata }: SubmitArticle, state: Article): ArticleEvent[] {
  requireTransition(state, 'draft', 'in_review');
  return [{ type: 'ArticleSubmitted', data: { submittedBy: metadata.actor.id } }];
}

function approveArticle({ metadata }: ApproveArticle, state: Article): ArticleEvent[] {
  requireTransition(state, 'in_review', 'approved');
  if (metadata.actor.id === state.submittedBy) {
    throw new DomainError('four-eyes', 'An article cannot be approved by the person who submitted it');
  }
  if (state.writers.includes(metadata.actor.id)) {
    throw new DomainError('four-eyes', 'An article cannot be approved by someone who drafted it or changed its content');
  }
  return [{ type: 'ArticleApproved', data: { approvedBy: metadata.actor.id } }];
}

function publishArticle(_command: PublishArticle, state: Article): ArticleEvent[] {
  requireTransition(state, 'approved', 'published');
  const blockers = publishBlockers(state);
  if (blockers.length > 0) throw publishBlocked('The article cannot be published', blockers);
  return [{ type: 'ArticlePublished', data: {} }];
}

function retractArticle({ data }: RetractArticle, state: Article): ArticleEvent[] {
  requireTransition(state, 'published', 'retracted');
  return [{ type: 'ArticleRetracted', data: { reason: data.reason } }];
}

function issueCorrection({ data }: IssueCorrection, state: Article): ArticleEvent[] {
  if (state.status !== 'published') {
    throw new DomainError(
      'invalid-transition',
      `A correction can only be issued on a published article; this one is ${state.status}`,
      { from: state.status },
    );
  }
  return [{ type: 'CorrectionIssued', data: { text: data.text } }];
}

// ─────────────────────────────────────────────────────────────────── helpers ──

function requireQuote(state: Article, quoteId: string): QuoteState {
  const quote = state.quotes[quoteId];
  if (!quote) throw new DomainError('quote-not-found', `Quote ${quoteId} not found`);
  return quote;
}

function requireTransition(state: Article, from: ArticleStatus, to: ArticleStatus): void {
  if (state.status !== from) {
    throw new DomainError(
      'invalid-transition',
      `Cannot move the article from ${state.status} to ${to}; only ${/^[aeiou]/.test(from) ? 'an' : 'a'} ${from} article can become ${to}`,
      { from: state.status, to },
    );
  }
}

/**
 * Review integrity, for every command that changes content. A change to a `published` article is an
 * editor's (`forbidden`), may not add a publish blocker (`publish-blocked`, checked before the
 * reason because no reason can fix it) and needs a reason (`reason-required`). A change while `in_review` or
 * `approved` sends the article back to draft: the content events, then {@link ArticleReturnedToDraft}.
 */
function reviewed(
  state: Article,
  metadata: CommandMetadata,
  change: { what: string; reason: string | undefined },
  events: ContentEvent[],
): ArticleEvent[] {
  switch (state.status) {
    case 'published': {
      if (!metadata.actor.roles.includes('editor')) {
        throw new DomainError('forbidden', `Only an editor can change the ${change.what} of a published article`);
      }
      // Folding events onto an article always leaves an article.
      const added = blockersAdded(state, evolveAll(state, events) as Article);
      if (added.length > 0) throw publishBlocked(`The change would break the published article's publish gate`, added);
      if (change.reason === undefined) {
        throw new DomainError('reason-required', `Changing the ${change.what} of a published article needs a reason`);
      }
      return events;
    }
    case 'in_review':
    case 'approved':
      return [...events, { type: 'ArticleReturnedToDraft', data: { from: state.status } }];
    case 'draft':
    case 'retracted':
      return events;
    default:
      return unreachable(state.status);
  }
}

function publishBlocked(why: string, blockers: PublishBlocker[]): DomainError {
  return new DomainError('publish-blocked', `${why}: ${blockers.map((b) => b.message).join('; ')}`, { blockers });
}

/** A reason that says something; blank counts as none. */
/** A reason made only of whitespace or invisible characters is no reason. */
const given = (reason: string | undefined): string | undefined => (reason !== undefined && !isBlank(reason) ? reason : undefined);

const withReason = (reason: string | undefined): { reason?: string } => (reason === undefined ? {} : { reason });

function unreachable(value: never): never {
  throw new Error(`Unhandled article message: ${JSON.stringify(value)}`);
}

export const decider = { name: 'article', snapshotVersion: ARTICLE_SNAPSHOT_VERSION, decide, evolve, evolveAll, initialState };
export const articleDecider = decider;
