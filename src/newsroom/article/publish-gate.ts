import type { Article } from './article.decider';

export type PublishBlocker =
  | { kind: 'quote-unattributed'; quoteId: string; message: string }
  | { kind: 'quote-not-in-body'; quoteId: string; message: string }
  | { kind: 'claim-unverified'; claimId: string; message: string };

/**
 * Why the article could not be published now; empty when nothing blocks it. The gate's invariants:
 * every live (not withdrawn) quote is attributed and still in the body, and every claim has a verdict.
 */
export function publishBlockers(state: Article): PublishBlocker[] {
  const blockers: PublishBlocker[] = [];
  for (const quoteId of state.quoteOrder) {
    const quote = state.quotes[quoteId];
    if (!quote || quote.status === 'withdrawn') continue;
    if (quote.status === 'unattributed') {
      blockers.push({ kind: 'quote-unattributed', quoteId, message: `Quote ${quoteId} is not attributed to a source` });
    }
    if (!quote.inBody) {
      blockers.push({ kind: 'quote-not-in-body', quoteId, message: `Quote ${quoteId} no longer appears in the body` });
    }
  }
  for (const claimId of state.claimOrder) {
    const claim = state.claims[claimId];
    if (claim && claim.verdicts.length === 0) {
      blockers.push({ kind: 'claim-unverified', claimId, message: `Claim ${claimId} has no verdict` });
    }
  }
  return blockers;
}

const key = (b: PublishBlocker): string => `${b.kind}:${'quoteId' in b ? b.quoteId : b.claimId}`;

/**
 * The blockers `after` has that `before` did not: what a change to a published article may not
 * introduce. One it already had (only possible in a history written before the rule) does not stop
 * unrelated changes, nor the change that removes it.
 */
export function blockersAdded(before: Article, after: Article): PublishBlocker[] {
  const had = new Set(publishBlockers(before).map(key));
  return publishBlockers(after).filter((b) => !had.has(key(b)));
}
