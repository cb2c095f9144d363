// @ts-check
// Words for the API's codes: statuses, verdicts, attribution methods, event types, times.

import { h } from './dom.js';

export const STATUSES = ['draft', 'in_review', 'approved', 'published', 'retracted'];

/** @type {Record<string, string>} */
export const STATUS_LABELS = { draft: 'Draft', in_review: 'In review', approved: 'Approved', published: 'Published', retracted: 'Retracted' };

/** @type {Record<string, string>} */
export const VERDICT_LABELS = { verified: 'Verified', false: 'False', misleading: 'Misleading', unverifiable: 'Unverifiable' };

/** @type {Record<string, string>} */
export const METHOD_LABELS = {
  interview: 'interview',
  press_briefing: 'press briefing',
  statement: 'statement',
  wire: 'wire',
  document: 'document',
  social: 'social media',
  other: 'other',
};

/** @param {string} status */
export const statusBadge = (status) => h('span', { class: `badge status-${status}`, text: STATUS_LABELS[status] ?? status });

/** @param {string | null} verdict */
export const verdictBadge = (verdict) =>
  verdict ? h('span', { class: `badge verdict-${verdict}`, text: VERDICT_LABELS[verdict] ?? verdict }) : h('span', { class: 'badge verdict-none', text: 'Not checked' });

/**
 * A time as the reader's locale writes it, in a <time> element.
 * @param {string | null | undefined} iso
 */
export function time(iso) {
  if (!iso) return h('span', { text: '—' });
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return h('span', { text: iso });
  return h('time', { datetime: iso, text: date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }) });
}

/**
 * “text”, shortened to `max` characters.
 * @param {string} text
 * @param {number} [max]
 */
export const quoted = (text, max = 120) => `“${text.length > max ? `${text.slice(0, max - 1)}…` : text}”`;

/** @type {Record<string, string>} */
const EVENT_LABELS = {
  ArticleDrafted: 'Drafted',
  HeadlineChanged: 'Headline changed',
  BodyRevised: 'Body revised',
  QuoteAdded: 'Quote added',
  SourceAttributed: 'Quote attributed',
  QuoteWithdrawn: 'Quote withdrawn',
  TopicTagged: 'Topic tagged',
  TopicUntagged: 'Topic removed',
  ClaimRecorded: 'Claim recorded',
  ClaimVerdictRecorded: 'Verdict recorded',
  ArticleReturnedToDraft: 'Returned to draft',
  ArticleSubmitted: 'Submitted for review',
  ArticleApproved: 'Approved',
  ArticlePublished: 'Published',
  ArticleRetracted: 'Retracted',
  CorrectionIssued: 'Correction issued',
};

/** @param {string} type */
export const eventLabel = (type) => EVENT_LABELS[type] ?? type;

/**
 * What an event of the article's history did, in a sentence. `known` collects quote and claim texts as
 * the history goes, so that later events can name them.
 * @param {{ type: string, data: any }} entry
 * @param {{ quotes: Map<string, string>, claims: Map<string, string> }} known
 * @returns {string}
 */
export function describeEvent(entry, known) {
  const data = entry.data ?? {};
  const quote = (id) => (known.quotes.has(id) ? quoted(known.quotes.get(id) ?? '', 80) : 'a quote');
  const claim = (id) => (known.claims.has(id) ? quoted(known.claims.get(id) ?? '', 80) : 'a claim');
  switch (entry.type) {
    case 'ArticleDrafted':
      return `Headline ${quoted(String(data.headline ?? ''))}${data.byline ? `, by ${data.byline}` : ''}.`;
    case 'HeadlineChanged':
      return `New headline ${quoted(String(data.headline ?? ''))}.`;
    case 'BodyRevised': {
      const paragraphs = String(data.body ?? '').split(/\n\s*\n/).filter((p) => p.trim()).length;
      return `The body now has ${paragraphs} paragraph${paragraphs === 1 ? '' : 's'}.`;
    }
    case 'QuoteAdded':
      known.quotes.set(data.quoteId, String(data.text ?? ''));
      return `${quoted(String(data.text ?? ''))}, said ${data.speaker ?? 'someone'} (paragraph ${Number(data.paragraph) + 1}).`;
    case 'SourceAttributed':
      return `${quote(data.quoteId)} attributed to ${data.source?.name ?? 'a source'}, by ${METHOD_LABELS[data.method] ?? data.method}${data.attribution ? ` (${data.attribution})` : ''}.`;
    case 'QuoteWithdrawn':
      return `${quote(data.quoteId)} withdrawn: ${data.reason ?? ''}`;
    case 'TopicTagged':
      return `Tagged “${data.label ?? data.slug}”.`;
    case 'TopicUntagged':
      return `Topic “${data.slug}” removed.`;
    case 'ClaimRecorded':
      known.claims.set(data.claimId, String(data.text ?? ''));
      return `${quoted(String(data.text ?? ''))}${data.quoteId ? `, about ${quote(data.quoteId)}` : ''}.`;
    case 'ClaimVerdictRecorded': {
      const evidence = Array.isArray(data.evidence) ? data.evidence.length : 0;
      return `${claim(data.claimId)}: ${VERDICT_LABELS[data.verdict] ?? data.verdict}, with ${evidence} piece${evidence === 1 ? '' : 's'} of evidence.`;
    }
    case 'ArticleReturnedToDraft':
      return `A change to its content sent it back from ${STATUS_LABELS[data.from] ?? data.from} to Draft.`;
    case 'ArticleRetracted':
      return `Reason: ${data.reason ?? ''}`;
    case 'CorrectionIssued':
      return String(data.text ?? '');
    default:
      return '';
  }
}
