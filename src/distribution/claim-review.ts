import { SourceKind } from '../newsroom/source/source.decider';
import { DistributionLinks, FoldedArticle, articleUri, claimReviewsUrl, sourceUri } from './ninjs';

/*
 * schema.org ClaimReview (JSON-LD), one per claim with a verdict, as search engines and fact-check
 * exchanges (Google Fact Check Tools, Meedan Check) read it. Folded from the article's stream, as ninjs is.
 */

const RATINGS: Record<string, string> = { verified: 'Verified', misleading: 'Misleading', false: 'False', unverifiable: 'Unverifiable' };

type Party = { '@type': 'Person' | 'Organization'; name: string; '@id'?: string };

export interface ClaimReview {
  '@context': 'https://schema.org';
  '@type': 'ClaimReview';
  url: string;
  claimReviewed: string;
  reviewRating: { '@type': 'Rating'; alternateName: string };
  itemReviewed: { '@type': 'Claim'; appearance: string; author?: Party };
  author: { '@type': 'Organization'; name: string; url: string };
  datePublished: string;
}

export interface ClaimReviewLinks extends DistributionLinks {
  /** COPYDESK_ORGANIZATION. */
  organization: string;
}

export function toClaimReviews(article: FoldedArticle, kinds: ReadonlyMap<string, SourceKind>, links: ClaimReviewLinks): ClaimReview[] {
  const { view } = article;
  const quotes = new Map(view.quotes.map((q) => [q.id, q]));
  return view.claims
    .filter((c) => c.verdict !== null)
    .map((claim) => {
      const quote = claim.quoteId ? quotes.get(claim.quoteId) : undefined;
      let author: Party | undefined;
      if (quote?.source) author = { '@type': (kinds.get(quote.source.id) ?? 'person') === 'person' ? 'Person' : 'Organization', name: quote.source.name, '@id': sourceUri(quote.source.id) };
      else if (quote) author = { '@type': 'Person', name: quote.speaker };
      return {
        '@context': 'https://schema.org',
        '@type': 'ClaimReview',
        url: `${claimReviewsUrl(links.publicUrl, view.id)}#claim-${claim.id}`,
        claimReviewed: claim.text,
        reviewRating: { '@type': 'Rating', alternateName: RATINGS[claim.verdict!] ?? claim.verdict! },
        itemReviewed: { '@type': 'Claim', appearance: articleUri(view.id), ...(author ? { author } : {}) },
        author: { '@type': 'Organization', name: links.organization, url: links.publicUrl },
        datePublished: claim.checkedAt ?? view.updatedAt,
      };
    });
}
