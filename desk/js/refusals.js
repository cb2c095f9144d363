// @ts-check
// A refusal from the API, said in words: what happened, why, and what the person can do about it.

import { ProblemError } from './api.js';
import { h } from './dom.js';
import { quoted } from './format.js';

/**
 * @typedef {{ quotes?: { id: string, text: string, speaker: string }[], claims?: { id: string, text: string }[] }} Known
 */

/**
 * One publish blocker in words, naming the quote or claim by its text.
 * @param {{ kind: string, quoteId?: string, claimId?: string, message?: string }} blocker
 * @param {Known} known
 */
export function blockerText(blocker, known) {
  const quote = known.quotes?.find((q) => q.id === blocker.quoteId);
  const claim = known.claims?.find((c) => c.id === blocker.claimId);
  switch (blocker.kind) {
    case 'quote-unattributed':
      return quote ? `The quote ${quoted(quote.text)} (${quote.speaker}) is not attributed to a source.` : blocker.message ?? 'A quote is not attributed.';
    case 'quote-not-in-body':
      return quote ? `The quote ${quoted(quote.text)} (${quote.speaker}) no longer appears in the body: put it back or withdraw it.` : blocker.message ?? 'A quote is no longer in the body.';
    case 'claim-unverified':
      return claim ? `The claim ${quoted(claim.text)} has no verdict yet: a fact checker must record one.` : blocker.message ?? 'A claim has no verdict.';
    default:
      return blocker.message ?? blocker.kind;
  }
}

/**
 * @param {Headers | null} headers
 */
function retryAfter(headers) {
  const seconds = Number(headers?.get('retry-after'));
  return Number.isFinite(seconds) && seconds > 0 ? `in ${seconds} second${seconds === 1 ? '' : 's'}` : 'in a moment';
}

/**
 * The words for a refused request. `action` names what was attempted ("approve", "publish", …).
 * @param {unknown} error
 * @param {string} action
 * @param {Known} [known]
 * @returns {{ summary: string, details: string[] }}
 */
export function explain(error, action, known = {}) {
  if (!(error instanceof ProblemError)) return { summary: `Could not ${action}: ${error instanceof Error ? error.message : String(error)}`, details: [] };
  const p = error.problem;
  const detail = typeof p.detail === 'string' ? p.detail : '';
  switch (p.type) {
    case 'four-eyes':
      return {
        summary: `Refused by the four-eyes rule: ${detail}.`,
        details: ['Another editor, who neither submitted this article nor wrote any of its content, must approve it.'],
      };
    case 'publish-blocked': {
      const blockers = Array.isArray(p.blockers) ? p.blockers : [];
      return { summary: `Cannot ${action}: the article cannot be published while ${blockers.length === 1 ? 'this holds' : `these ${blockers.length} things hold`}.`, details: blockers.map((b) => blockerText(b, known)) };
    }
    case 'revision-mismatch':
      return { summary: `Not done: the article changed since this page showed it (${detail}).`, details: ['Reload the page, look at what changed, and decide again.'] };
    case 'invalid-transition':
      return { summary: `Cannot ${action} the article in its present state: ${detail}.`, details: [] };
    case 'idempotency-key-in-flight':
      return { summary: `The same request is still being processed. Try again ${retryAfter(error.headers)}.`, details: [] };
    case 'idempotency-key-reused':
      return { summary: 'The server already took a different request under this request key. Reload the page and try again.', details: [] };
    case 'forbidden':
      return { summary: `Your role may not ${action} this: ${detail}`, details: [] };
    case 'unauthorized':
      return { summary: `Your token was refused: ${detail} Sign in again with a valid token.`, details: [] };
    case 'evidence-required':
      return { summary: `${detail}.`, details: ['Add a note saying what the evidence is, and a link if there is one.'] };
    case 'validation-failed':
      return { summary: `Some fields need attention before you can ${action}:`, details: (p.errors ?? []).map((e) => `${e.field}: ${e.message}`) };
    case 'rate-limited':
      return { summary: `Too many changes in a minute. Try again ${retryAfter(error.headers)}.`, details: [] };
    case 'projection-lagging':
      return { summary: `The server is still catching up with recent changes. Try again ${retryAfter(error.headers)}.`, details: [] };
    case 'store-unavailable':
      return { summary: `The server cannot reach its store just now. Try again ${retryAfter(error.headers)}.`, details: [] };
    case 'article-retracted':
      return { summary: `The article has been retracted and can no longer change.`, details: [] };
    case 'webhook-destination-refused': {
      const why = Array.isArray(p.errors) && typeof p.errors[0]?.message === 'string' ? p.errors[0].message : detail;
      return {
        summary: `The server refused this destination: ${why}.`,
        details: ['Webhooks go to public http(s) addresses only. A receiver on this network needs the server started with WEBHOOK_ALLOW_PRIVATE=true.'],
      };
    }
    case 'webhook-not-found':
      return { summary: `Could not ${action}: ${detail} Someone may have deleted it; the list shows what is left.`, details: [] };
    case 'network':
      return { summary: detail, details: [] };
    default:
      return { summary: `Could not ${action}: ${detail || p.title || `HTTP ${error.status}`}`, details: [] };
  }
}

/**
 * A message box for a refusal (announced at once by screen readers).
 * @param {unknown} error
 * @param {string} action
 * @param {Known} [known]
 */
export function refusal(error, action, known) {
  const { summary, details } = explain(error, action, known);
  return h(
    'div',
    { class: 'message refusal', role: 'alert', tabindex: '-1' },
    h('p', { text: summary }),
    details.length ? h('ul', null, details.map((d) => h('li', { text: d }))) : null,
  );
}

/**
 * A message box for a success (announced politely).
 * @param {string} text
 */
export const success = (text) => h('div', { class: 'message success', role: 'status', tabindex: '-1' }, h('p', { text }));

