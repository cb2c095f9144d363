import { ClaimState, QuoteState, Topic, Verdict } from '../../newsroom/article/article.decider';
import { ArticleDocument, ClaimView, QuoteView, claimView, quoteView } from '../../newsroom/article/article.view';
import { BodyDiff } from './body-diff';

/** What changed between two states of one article (`GET /articles/{id}/diff`). */
export interface ArticleDiff {
  id: string;
  from: number;
  to: number;
  /** Null when unchanged. */
  headline: { before: string; after: string } | null;
  /** A unified diff of the body; null when unchanged. */
  body: string | null;
  /**
   * `lines`: `body` is a line diff; `whole`: comparing the lines would have cost too much, and `body`
   * replaces every line of the old body with every line of the new one. Null when the body is unchanged.
   */
  bodyDiff: BodyDiff['kind'] | null;
  quotes: { added: QuoteView[]; withdrawn: QuoteView[]; attributed: QuoteView[] };
  claims: { recorded: ClaimView[]; verdicts: { claimId: string; before: Verdict | null; after: Verdict }[] };
  topics: { added: Topic[]; removed: Topic[] };
  /** Null when unchanged. */
  status: { before: string; after: string } | null;
}

function sameAttribution(a: QuoteState, b: QuoteState): boolean {
  return a.status === b.status && a.source?.id === b.source?.id && a.attribution === b.attribution && a.method === b.method;
}

function currentVerdict(claim: ClaimState | undefined): Verdict | null {
  return claim && claim.verdicts.length ? claim.verdicts[claim.verdicts.length - 1].verdict : null;
}

/** The labels of the two sides of a body diff. */
export const revisionHeader = (revision: number) => `revision ${revision}`;

/**
 * Compares the article at `from` with the article at `to` (both documents folded from the stream).
 * Quotes, claims and topics are listed as they stand at `to`. `body` is the diff of the two bodies,
 * computed by the caller (null when they are the same).
 */
export function diffArticle(
  before: { doc: ArticleDocument; revision: number },
  after: { doc: ArticleDocument; revision: number },
  body: BodyDiff | null,
): ArticleDiff {
  const a = before.doc.article;
  const b = after.doc.article;

  const added: QuoteView[] = [];
  const withdrawn: QuoteView[] = [];
  const attributed: QuoteView[] = [];
  for (const id of b.quoteOrder) {
    const now = b.quotes[id];
    const then = a.quotes[id];
    const view = quoteView(now);
    if (!then) added.push(view);
    if (now.status === 'withdrawn' && then?.status !== 'withdrawn') withdrawn.push(view);
    if (now.status === 'attributed' && (!then || !sameAttribution(then, now))) attributed.push(view);
  }

  const recorded: ClaimView[] = [];
  const verdicts: ArticleDiff['claims']['verdicts'] = [];
  for (const id of b.claimOrder) {
    const now = b.claims[id];
    const then = a.claims[id];
    if (!then) recorded.push(claimView(now, after.doc.checked[id]));
    if (now.verdicts.length > (then?.verdicts.length ?? 0)) verdicts.push({ claimId: id, before: currentVerdict(then), after: currentVerdict(now)! });
  }

  const slugsBefore = new Set(a.topics.map((t) => t.slug));
  const slugsAfter = new Set(b.topics.map((t) => t.slug));

  return {
    id: b.id,
    from: before.revision,
    to: after.revision,
    headline: a.headline === b.headline ? null : { before: a.headline, after: b.headline },
    body: body?.patch ?? null,
    bodyDiff: body?.kind ?? null,
    quotes: { added, withdrawn, attributed },
    claims: { recorded, verdicts },
    topics: {
      added: b.topics.filter((t) => !slugsBefore.has(t.slug)).map((t) => ({ slug: t.slug, label: t.label })),
      removed: a.topics.filter((t) => !slugsAfter.has(t.slug)).map((t) => ({ slug: t.slug, label: t.label })),
    },
    status: a.status === b.status ? null : { before: a.status, after: b.status },
  };
}
