import type { CommandMetadata } from '../actor';
import { DomainError } from '../domain-error';
import { findQuoteParagraph, normaliseWhitespace, slugify } from '../text';
import { isBlank } from '../typography';
import { quoteNotInBody } from './quote-not-in-body';
import { PublishBlocker, blockersAdded, publishBlockers } from './publish-gate';
import type { QuoteState, Article, ArticleState } from './article.state';
import { initialState, ARTICLE_SNAPSHOT_VERSION, evolve, evolveAll, unreachable } from './article.state';
import type {
  ArticleStatus,
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
export * from './article.state';

export const articleStream = (id: string): string => `article-${id}`;

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


export const decider = { name: 'article', snapshotVersion: ARTICLE_SNAPSHOT_VERSION, decide, evolve, evolveAll, initialState };
export const articleDecider = decider;
