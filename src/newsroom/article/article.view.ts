import { RecordedEvent } from '../../event-store/event-store';
import { toDomainEvent } from '../event-codec';
import { Article, ArticleEvent, ArticleState, Evidence, evolveAll, initialState } from './article.decider';

/** The article as API.md's `GET /articles/{id}` shows it. */
export interface ArticleView {
  id: string;
  headline: string;
  byline: string | null;
  desk: string | null;
  status: string;
  body: string;
  revision: number;
  createdAt: string;
  updatedAt: string;
  publishedAt: string | null;
  quotes: {
    id: string;
    text: string;
    speaker: string;
    paragraph: number;
    status: string;
    inBody: boolean;
    source: { id: string; name: string; title: string | null; organization: string | null } | null;
    attribution: string | null;
    method: string | null;
  }[];
  topics: { slug: string; label: string }[];
  claims: {
    id: string;
    text: string;
    quoteId: string | null;
    verdict: string | null;
    evidence: Evidence[];
    note: string | null;
    checkedBy: { id: string; name: string } | null;
    checkedAt: string | null;
  }[];
  corrections: { text: string; issuedAt: string; issuedBy: { id: string; name: string } }[];
}

interface Who {
  id: string;
  name: string;
}

/** What the view needs beyond the decider's state: who and when, from event metadata. */
interface Provenance {
  createdAt: string;
  updatedAt: string;
  publishedAt: string | null;
  checked: Record<string, { by: Who; at: string }>;
  corrections: { issuedAt: string; issuedBy: Who }[];
}

function who(event: RecordedEvent): Who {
  const actor = (event.metadata.actor ?? {}) as Partial<Who>;
  return { id: String(actor.id ?? ''), name: String(actor.name ?? '') };
}

function occurredAt(event: RecordedEvent): string {
  return typeof event.metadata.occurredAt === 'string' ? event.metadata.occurredAt : event.created.toISOString();
}

/**
 * Folds an article stream (or its first revisions, for time travel) with the decider's own
 * `evolve`, so the view can never disagree with what the command side decides on.
 */
export function foldArticle(events: RecordedEvent[]): { state: ArticleState; view: ArticleView | null } {
  const domain = events.map((recorded) => toDomainEvent<ArticleEvent>(recorded));
  const state = evolveAll(initialState(), domain);
  const provenance: Provenance = { createdAt: '', updatedAt: '', publishedAt: null, checked: {}, corrections: [] };
  for (const [i, recorded] of events.entries()) {
    const event = domain[i];
    const at = occurredAt(recorded);
    if (event.type === 'ArticleDrafted') provenance.createdAt = at;
    if (event.type === 'ArticlePublished' && !provenance.publishedAt) provenance.publishedAt = at;
    if (event.type === 'ClaimVerdictRecorded') provenance.checked[event.data.claimId] = { by: who(recorded), at };
    if (event.type === 'CorrectionIssued') provenance.corrections.push({ issuedAt: at, issuedBy: who(recorded) });
    provenance.updatedAt = at;
  }
  if (state.status === 'none') return { state, view: null };
  const revision = events[events.length - 1].revision;
  return { state, view: renderArticle(state, revision, provenance) };
}

type QuoteView = ArticleView['quotes'][number];

/** One quote in API.md's shape, from the decider's state or a read-model row alike (only the API's fields, in its order). */
export function quoteView(q: QuoteView): QuoteView {
  return {
    id: q.id,
    text: q.text,
    speaker: q.speaker,
    paragraph: q.paragraph,
    status: q.status,
    inBody: q.inBody,
    source: q.source ? { id: q.source.id, name: q.source.name, title: q.source.title, organization: q.source.organization } : null,
    attribution: q.attribution,
    method: q.method,
  };
}

function renderArticle(article: Article, revision: number, provenance: Provenance): ArticleView {
  return {
    id: article.id,
    headline: article.headline,
    byline: article.byline,
    desk: article.desk,
    status: article.status,
    body: article.body,
    revision,
    createdAt: provenance.createdAt,
    updatedAt: provenance.updatedAt,
    publishedAt: provenance.publishedAt,
    quotes: article.quoteOrder.map((id) => quoteView(article.quotes[id])),
    topics: article.topics.map((t) => ({ slug: t.slug, label: t.label })),
    claims: article.claimOrder.map((id) => {
      const c = article.claims[id];
      const current = c.verdicts.length ? c.verdicts[c.verdicts.length - 1] : null;
      const checked = provenance.checked[id];
      return {
        id: c.id,
        text: c.text,
        quoteId: c.quoteId,
        verdict: current?.verdict ?? null,
        evidence: current?.evidence ?? [],
        note: current?.note ?? null,
        checkedBy: checked?.by ?? null,
        checkedAt: checked?.at ?? null,
      };
    }),
    corrections: article.corrections.map((c, i) => ({ text: c.text, ...provenance.corrections[i] })),
  };
}
