import type { CommandMetadata } from '../actor';

/*
 * The article's messages: the shapes events and commands share, every event (past tense, one named
 * type each, and their union) and every command (imperative). The decider (article.decider.ts) folds
 * the events into its state and decides on the commands; it re-exports all of this.
 */

// ───────────────────────────────────────────────────────────── shared shapes ──

export type ArticleStatus = 'draft' | 'in_review' | 'approved' | 'published' | 'retracted';
export type QuoteStatus = 'unattributed' | 'attributed' | 'withdrawn';
export type AttributionMethod =
  | 'interview'
  | 'press_briefing'
  | 'statement'
  | 'wire'
  | 'document'
  | 'social'
  | 'other';
export type Verdict = 'verified' | 'false' | 'misleading' | 'unverifiable';

/** The source as it stood when the quote was attributed. */
export interface SourceSnapshot {
  id: string;
  name: string;
  title: string | null;
  organization: string | null;
}

export interface Evidence {
  url?: string;
  note: string;
}

// ──────────────────────────────────────────────────────────────────── events ──

/**
 * Content events (drafting, headline, body, quotes, attributions, withdrawals, claims) name their
 * writer, the actor's id, in `by`: whoever wrote content under review may not approve it.
 */
type Written = { by: string };

export type ArticleDrafted = {
  type: 'ArticleDrafted';
  data: { articleId: string; headline: string; body: string; byline: string | null; desk: string | null } & Written;
};
export type HeadlineChanged = { type: 'HeadlineChanged'; data: { headline: string; reason?: string } & Written };
/**
 * `returnedToDraft: true` only in events written before {@link ArticleReturnedToDraft} existed: the
 * revision sent an in_review/approved article back to draft. New events record that as its own event.
 */
export type BodyRevised = {
  type: 'BodyRevised';
  data: { body: string; reason?: string; returnedToDraft?: boolean } & Written;
};
export type QuoteAdded = {
  type: 'QuoteAdded';
  data: { quoteId: string; text: string; speaker: string; paragraph: number } & Written;
};
export type SourceAttributed = {
  type: 'SourceAttributed';
  data: { quoteId: string; source: SourceSnapshot; attribution: string | null; method: AttributionMethod; reason?: string } & Written;
};
export type QuoteWithdrawn = { type: 'QuoteWithdrawn'; data: { quoteId: string; reason: string } & Written };
export type TopicTagged = { type: 'TopicTagged'; data: { slug: string; label: string } };
export type TopicUntagged = { type: 'TopicUntagged'; data: { slug: string } };
export type ClaimRecorded = {
  type: 'ClaimRecorded';
  data: { claimId: string; text: string; quoteId: string | null } & Written;
};
/** A content change in review sent the article back to draft; it follows that change, in the same command. */
export type ArticleReturnedToDraft = { type: 'ArticleReturnedToDraft'; data: { from: 'in_review' | 'approved' } };
export type ClaimVerdictRecorded = {
  type: 'ClaimVerdictRecorded';
  data: { claimId: string; verdict: Verdict; evidence: Evidence[]; note: string | null };
};
export type ArticleSubmitted = { type: 'ArticleSubmitted'; data: { submittedBy: string } };
export type ArticleApproved = { type: 'ArticleApproved'; data: { approvedBy: string } };
export type ArticlePublished = { type: 'ArticlePublished'; data: Record<string, never> };
export type ArticleRetracted = { type: 'ArticleRetracted'; data: { reason: string } };
export type CorrectionIssued = { type: 'CorrectionIssued'; data: { text: string } };

export type ArticleEvent =
  | ArticleDrafted
  | HeadlineChanged
  | BodyRevised
  | QuoteAdded
  | SourceAttributed
  | QuoteWithdrawn
  | TopicTagged
  | TopicUntagged
  | ClaimRecorded
  | ClaimVerdictRecorded
  | ArticleReturnedToDraft
  | ArticleSubmitted
  | ArticleApproved
  | ArticlePublished
  | ArticleRetracted
  | CorrectionIssued;

/** The events that change content: each names its writer, and each is what review integrity guards. */
export type ContentEvent = ArticleDrafted | HeadlineChanged | BodyRevised | QuoteAdded | SourceAttributed | QuoteWithdrawn | ClaimRecorded;

export type ArticleEventType = ArticleEvent['type'];

// A record so that the compiler complains when an event type is added to the union but not here.
const EVENT_TYPES: Record<ArticleEventType, true> = {
  ArticleDrafted: true,
  HeadlineChanged: true,
  BodyRevised: true,
  QuoteAdded: true,
  SourceAttributed: true,
  QuoteWithdrawn: true,
  TopicTagged: true,
  TopicUntagged: true,
  ClaimRecorded: true,
  ClaimVerdictRecorded: true,
  ArticleReturnedToDraft: true,
  ArticleSubmitted: true,
  ArticleApproved: true,
  ArticlePublished: true,
  ArticleRetracted: true,
  CorrectionIssued: true,
};

export const ARTICLE_EVENT_TYPES: readonly ArticleEventType[] = Object.freeze(
  Object.keys(EVENT_TYPES) as ArticleEventType[],
);

// ────────────────────────────────────────────────────────────────── commands ──

export type DraftArticle = {
  type: 'DraftArticle';
  data: { articleId: string; headline: string; body: string; byline?: string | null; desk?: string | null };
  metadata: CommandMetadata;
};
export type ChangeHeadline = {
  type: 'ChangeHeadline';
  data: { headline: string; reason?: string };
  metadata: CommandMetadata;
};
export type ReviseBody = { type: 'ReviseBody'; data: { body: string; reason?: string }; metadata: CommandMetadata };
export type AddQuote = {
  type: 'AddQuote';
  data: { quoteId: string; text: string; speaker: string };
  metadata: CommandMetadata;
};
/** `source` is loaded by the handler; null when no such source is registered. */
export type AttributeQuote = {
  type: 'AttributeQuote';
  data: { quoteId: string; source: SourceSnapshot | null; attribution?: string | null; method: AttributionMethod; reason?: string };
  metadata: CommandMetadata;
};
export type WithdrawQuote = {
  type: 'WithdrawQuote';
  data: { quoteId: string; reason: string };
  metadata: CommandMetadata;
};
export type TagTopic = { type: 'TagTopic'; data: { label: string }; metadata: CommandMetadata };
export type UntagTopic = { type: 'UntagTopic'; data: { slug: string }; metadata: CommandMetadata };
export type RecordClaim = {
  type: 'RecordClaim';
  data: { claimId: string; text: string; quoteId?: string | null };
  metadata: CommandMetadata;
};
export type RecordVerdict = {
  type: 'RecordVerdict';
  data: { claimId: string; verdict: Verdict; evidence: Evidence[]; note?: string | null };
  metadata: CommandMetadata;
};
export type SubmitArticle = { type: 'SubmitArticle'; data: Record<string, never>; metadata: CommandMetadata };
export type ApproveArticle = { type: 'ApproveArticle'; data: Record<string, never>; metadata: CommandMetadata };
export type PublishArticle = { type: 'PublishArticle'; data: Record<string, never>; metadata: CommandMetadata };
export type RetractArticle = { type: 'RetractArticle'; data: { reason: string }; metadata: CommandMetadata };
export type IssueCorrection = { type: 'IssueCorrection'; data: { text: string }; metadata: CommandMetadata };

export type ArticleCommand =
  | DraftArticle
  | ChangeHeadline
  | ReviseBody
  | AddQuote
  | AttributeQuote
  | WithdrawQuote
  | TagTopic
  | UntagTopic
  | RecordClaim
  | RecordVerdict
  | SubmitArticle
  | ApproveArticle
  | PublishArticle
  | RetractArticle
  | IssueCorrection;
