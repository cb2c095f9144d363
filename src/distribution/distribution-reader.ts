import { RecordedEvent, EventStore } from '../event-store/event-store';
import { ProblemException } from '../http/problem';
import { articleStream } from '../newsroom/article/article.decider';
import { SourceKind, sourceStream } from '../newsroom/source/source.decider';
import { FoldedArticle, attributedSourceIds, foldForDistribution } from './ninjs';

export interface ArticleForDistribution {
  article: FoldedArticle;
  /** The kind of each attributed source, from the source's own stream (a kind never changes). */
  kinds: Map<string, SourceKind>;
}

/** Reads what the distribution documents need from the event log: the article's stream and its sources' first events. */
export async function readForDistribution(store: EventStore, articleId: string, revision?: number): Promise<ArticleForDistribution> {
  const events = await store.readStream(articleStream(articleId), revision === undefined ? {} : { toRevision: revision });
  if (events.length === 0) throw ProblemException.of(404, 'article-not-found', `No article ${articleId}.`);
  const last = events[events.length - 1].revision;
  if (revision !== undefined && last < revision)
    throw ProblemException.of(404, 'revision-not-found', `Article ${articleId} has no revision ${revision}; its current revision is ${last}.`, { currentRevision: last });
  return foldWithSources(store, events);
}

/** The fold of these article events (a stream's first ones) and the kinds of the sources it quotes. */
export async function foldWithSources(store: EventStore, events: RecordedEvent[], kindCache?: Map<string, SourceKind>): Promise<ArticleForDistribution> {
  const article = foldForDistribution(events);
  if (!article) throw ProblemException.of(404, 'article-not-found', `No article ${events[0]?.streamId.replace(/^article-/, '') ?? ''}.`);
  const kinds = new Map<string, SourceKind>();
  await Promise.all(
    attributedSourceIds(article.view).map(async (id) => {
      let kind = kindCache?.get(id);
      if (!kind) {
        const [registered] = await store.readStream(sourceStream(id), { toRevision: 0 });
        kind = registered?.type === 'SourceRegistered' ? ((registered.data.kind as SourceKind) ?? 'person') : 'person';
        kindCache?.set(id, kind);
      }
      kinds.set(id, kind);
    }),
  );
  return { article, kinds };
}
