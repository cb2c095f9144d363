import { Controller, Get, Param, Res } from '@nestjs/common';
import { IQueryHandler, Query, QueryBus, QueryHandler } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { IdPipe } from '../../http/id.pipe';
import { DomainError } from '../domain-error';
import { articleStream } from './article.decider';
import { ArticleView, foldArticle } from './article.view';
import { EVENT_STORE, EventStore } from '../../event-store/event-store';
import { Inject } from '@nestjs/common';

export class GetArticleFromLog extends Query<ArticleView> {
  constructor(readonly articleId: string) {
    super();
  }
}

/** The article folded straight from its stream: always current, used until the read model answers. */
@QueryHandler(GetArticleFromLog)
export class GetArticleFromLogHandler implements IQueryHandler<GetArticleFromLog, ArticleView> {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async execute({ articleId }: GetArticleFromLog): Promise<ArticleView> {
    const { view } = foldArticle(await this.store.readStream(articleStream(articleId)));
    if (!view) throw new DomainError('article-not-found', 404, `No article ${articleId}.`);
    return view;
  }
}

@ApiTags('articles')
@ApiBearerAuth()
@Controller('articles')
export class ArticleReadController {
  constructor(private readonly queries: QueryBus) {}

  @Get(':id')
  async get(@Param('id', new IdPipe('article')) id: string, @Res({ passthrough: true }) reply: FastifyReply) {
    const view = await this.queries.execute(new GetArticleFromLog(id));
    void reply.header('etag', `"${view.revision}"`);
    return view;
  }
}
