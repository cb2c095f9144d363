import { RecordedEvent } from '../event-store/event-store';
import { Article } from '../newsroom/article/article.decider';
import { ArticleView, articleView, foldArticleStream } from '../newsroom/article/article.view';
import { SourceKind } from '../newsroom/source/source.decider';

/*
 * IPTC ninjs 2.2 (News in JSON) for an article, folded from its event stream with the command side's
 * own fold: the document for revision N is the fold of the stream's first N + 1 events, so a past
 * revision is as easy to hand out as the current one. Nothing here reads a read model.
 */

export interface NinjsName {
  name: string;
  rel?: string;
  role?: string;
  uri?: string;
  literal?: string;
}

/** The members Copydesk fills; each is a property of the official schema (`docs/specs/ninjs-schema_2.2.json`). */
export interface Ninjs {
  uri: string;
  type: 'text';
  version: string;
  firstcreated: string;
  versioncreated: string;
  pubstatus: 'usable' | 'withheld' | 'canceled';
  headlines: { role: 'main'; value: string }[];
  bodies: { role: 'main'; contenttype: 'text/plain'; value: string; charcount: number; wordcount: number }[];
  by: string;
  subjects: { name: string; literal: string }[];
  people: NinjsName[];
  organisations: NinjsName[];
  infosources: NinjsName[];
  ednote?: string;
  trustindicators: { role: string; title: string; href: string }[];
}

export interface DistributionLinks {
  /** PUBLIC_URL, without a trailing slash. */
  publicUrl: string;
}

export const articleUri = (id: string): string => `urn:copydesk:article:${id}`;
export const sourceUri = (id: string): string => `urn:copydesk:source:${id}`;
export const claimReviewsUrl = (publicUrl: string, articleId: string): string => `${publicUrl}/articles/${articleId}/claim-reviews`;

/** The trust indicator's role: what the linked document is. */
export const CLAIM_REVIEW_ROLE = 'https://schema.org/ClaimReview';

export function pubstatusOf(status: string): Ninjs['pubstatus'] {
  if (status === 'published') return 'usable';
  if (status === 'retracted') return 'canceled';
  return 'withheld';
}

/** Characters as a reader counts them: code points, not UTF-16 units. */
export function charCount(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/** Runs of letters or digits (with inner apostrophes and hyphens): "it’s" and "well-known" are one word each. */
export function wordCount(text: string): number {
  return text.match(/[\p{L}\p{N}]+(?:['’\-‐][\p{L}\p{N}]+)*/gu)?.length ?? 0;
}

/** The article folded from these events (a stream's first events, for a past revision), or null before it was drafted. */
export interface FoldedArticle {
  state: Article;
  view: ArticleView;
  /** The name of whoever drafted it: `by` when the article has no byline. */
  drafter: string;
}

export function foldForDistribution(events: RecordedEvent[]): FoldedArticle | null {
  const doc = foldArticleStream(events);
  if (!doc) return null;
  const drafted = events.find((e) => e.type === 'ArticleDrafted');
  const actor = (drafted?.metadata.actor ?? {}) as { name?: unknown };
  return { state: doc.article, view: articleView(doc), drafter: typeof actor.name === 'string' ? actor.name : '' };
}

/** Source ids of the quotes that stand attributed (withdrawn quotes name nobody), first attribution first. */
export function attributedSourceIds(view: ArticleView): string[] {
  return [...new Set(view.quotes.filter((q) => q.status === 'attributed' && q.source).map((q) => q.source!.id))];
}

/**
 * The ninjs document. `kinds` gives each attributed source's kind (from its own stream): people and
 * organisations are listed with `rel: "quoted"`, wire services and documents as `infosources`.
 */
export function toNinjs(article: FoldedArticle, kinds: ReadonlyMap<string, SourceKind>, links: DistributionLinks): Ninjs {
  const { view } = article;
  const people: NinjsName[] = [];
  const organisations: NinjsName[] = [];
  const infosources: NinjsName[] = [];
  for (const id of attributedSourceIds(view)) {
    // The source as it stood when last attributed: what the copy says of it.
    const quote = [...view.quotes].reverse().find((q) => q.status === 'attributed' && q.source?.id === id)!;
    const name = quote.source!.name;
    const kind = kinds.get(id) ?? 'person';
    if (kind === 'person') people.push({ name, rel: 'quoted', uri: sourceUri(id) });
    else if (kind === 'organization') organisations.push({ name, rel: 'quoted', uri: sourceUri(id) });
    else infosources.push({ name, role: kind === 'wire' ? 'wire' : 'document', uri: sourceUri(id) });
  }
  const corrections = [...view.corrections].reverse();
  return {
    uri: articleUri(view.id),
    type: 'text',
    version: String(view.revision),
    firstcreated: view.createdAt,
    versioncreated: view.updatedAt,
    pubstatus: pubstatusOf(view.status),
    headlines: [{ role: 'main', value: view.headline }],
    bodies: [{ role: 'main', contenttype: 'text/plain', value: view.body, charcount: charCount(view.body), wordcount: wordCount(view.body) }],
    by: view.byline ?? article.drafter,
    subjects: view.topics.map((t) => ({ name: t.label, literal: t.slug })),
    people,
    organisations,
    infosources,
    ...(corrections.length ? { ednote: corrections.map((c) => `Correction (${c.issuedAt}): ${c.text}`).join('\n') } : {}),
    trustindicators: [{ role: CLAIM_REVIEW_ROLE, title: 'Fact checks of the claims in this article (schema.org ClaimReview)', href: claimReviewsUrl(links.publicUrl, view.id) }],
  };
}
