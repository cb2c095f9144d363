import { Inject } from '@nestjs/common';
import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { EVENT_STORE, EventStore, RecordedEvent } from '../../event-store/event-store';
import { ProblemException } from '../../http/problem';
import { articleStream } from '../../newsroom/article/article.decider';
import { ArticleDocument, ArticleView, articleView, foldArticleStream } from '../../newsroom/article/article.view';
import { ArticleDiff, diffArticle, revisionHeader } from './article-diff';
import { BodyDiffer } from './body-diff';

/*
 * Time travel reads the event store itself, not a read model: the article as it stood at a stream
 * revision is the fold of its first events into the same `ArticleDocument` the articles read model
 * stores, built on the decider's own `evolve`.
 */

function notFound(articleId: string): ProblemException {
  return ProblemException.of(404, 'article-not-found', `No article ${articleId}.`);
}

function revisionNotFound(articleId: string, revision: number, current: number): ProblemException {
  return ProblemException.of(404, 'revision-not-found', `Article ${articleId} has no revision ${revision}; its current revision is ${current}.`, {
    currentRevision: current,
  });
}

function documentAt(events: RecordedEvent[], revision: number): ArticleDocument {
  const doc = foldArticleStream(events.filter((e) => e.revision <= revision));
  if (!doc) throw new Error(`revision ${revision} does not fold to an article`);
  return doc;
}

/** `GET /articles/{id}/revisions/{revision}`. */
export class GetArticleAtRevision extends Query<ArticleView> {
  constructor(
    readonly articleId: string,
    readonly revision: number,
  ) {
    super();
  }
}

@QueryHandler(GetArticleAtRevision)
export class GetArticleAtRevisionHandler implements IQueryHandler<GetArticleAtRevision> {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async execute({ articleId, revision }: GetArticleAtRevision): Promise<ArticleView> {
    const events = await this.store.readStream(articleStream(articleId), { toRevision: revision });
    if (events.length === 0) throw notFound(articleId);
    const last = events[events.length - 1].revision;
    if (last < revision) throw revisionNotFound(articleId, revision, last);
    const doc = foldArticleStream(events);
    if (!doc) throw notFound(articleId);
    return articleView(doc);
  }
}

/** `GET /articles/{id}/diff?from=&to=`; `to` defaults to the current revision, `from` to 0. */
export class DiffArticleRevisions extends Query<ArticleDiff> {
  constructor(
    readonly articleId: string,
    readonly from: number | undefined,
    readonly to: number | undefined,
  ) {
    super();
  }
}

@QueryHandler(DiffArticleRevisions)
export class DiffArticleRevisionsHandler implements IQueryHandler<DiffArticleRevisions> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly bodies: BodyDiffer,
  ) {}

  async execute({ articleId, from, to }: DiffArticleRevisions): Promise<ArticleDiff> {
    const events = await this.store.readStream(articleStream(articleId), to === undefined ? {} : { toRevision: to });
    if (events.length === 0) throw notFound(articleId);
    const current = events[events.length - 1].revision;
    const target = to ?? current;
    const origin = from ?? 0;
    if (target > current) throw revisionNotFound(articleId, target, current);
    if (origin > target)
      throw ProblemException.validation([{ field: 'from', message: `from (${origin}) must not be after to (${target})` }]);
    const [before, after] = [documentAt(events, origin), documentAt(events, target)];
    const [a, b] = [before.article, after.article];
    const body = a.body === b.body ? null : await this.bodies.diff(a.body, b.body, revisionHeader(origin), revisionHeader(target));
    return diffArticle({ doc: before, revision: origin }, { doc: after, revision: target }, body);
  }
}
