import { Controller, Get, Headers, Param, Query, Res } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { articlesProjection, auditProjection } from '../../../projections';
import { ApiBearerAuth, ApiParam, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { IdPipe } from '../../http/id.pipe';
import { PageOf } from '../../http/openapi/answers.dto';
import { EventLogReadOperation, ReadModelOperation } from '../../http/openapi/operations';
import { QueryParams, pageRequest, positionKey, queryParam, revisionKey } from '../../http/pagination';
import { FieldError, ProblemException } from '../../http/problem';
import { parseWaitForPosition } from '../../http/read-your-writes';
import { ArticleStatus, Verdict } from '../../newsroom/article/article.decider';
import { slugify } from '../../newsroom/text';
import { ARTICLES_CURSOR, GetArticle, ListArticles } from '../queries/articles.queries';
import { GetArticleHistory, HISTORY_CURSOR } from '../queries/audit.queries';
import { ARTICLE_CLAIMS_CURSOR, ListArticleClaims, VerdictFilter } from '../queries/claims.queries';
import { DiffArticleRevisions, GetArticleAtRevision } from '../queries/time-travel.queries';
import { ArticleDiffDto, ArticleDto, ArticleListItemDto, ClaimDto, HistoryEntryDto } from './article-answers.dto';
import { ListQuery, ReadAnswer, WAIT_HEADER, parseRevision } from './read-answer';

const STATUSES: readonly ArticleStatus[] = ['draft', 'in_review', 'approved', 'published', 'retracted'];
export const VERDICT_FILTERS: readonly VerdictFilter[] = ['verified', 'false', 'misleading', 'unverifiable', 'none'] satisfies (Verdict | 'none')[];

export function parseVerdict(query: QueryParams): VerdictFilter | undefined {
  const verdict = queryParam(query, 'verdict');
  if (verdict !== undefined && !(VERDICT_FILTERS as string[]).includes(verdict))
    throw ProblemException.validation([{ field: 'verdict', message: `verdict must be one of ${VERDICT_FILTERS.join(', ')}` }]);
  return verdict as VerdictFilter | undefined;
}

/** A topic given as its slug or its label. */
export function parseTopic(query: QueryParams): string | undefined {
  const topic = queryParam(query, 'topic');
  if (topic === undefined) return undefined;
  const slug = slugify(topic);
  if (slug === '' || topic.length > 100) throw ProblemException.validation([{ field: 'topic', message: 'topic must be a topic slug or label' }]);
  return slug;
}

const Wait = () => Headers(WAIT_HEADER);
const ArticleId = () => Param('id', new IdPipe('article'));

/** The read routes for articles: read models, plus time travel and diffs from the event store. */
@ApiTags('articles')
@ApiBearerAuth()
@Controller('articles')
export class ArticleQueriesController {
  constructor(
    private readonly answer: ReadAnswer,
    private readonly queries: QueryBus,
  ) {}

  @Get()
  @ListQuery(['status', 'draft, in_review, approved, published or retracted', { type: 'string', enum: [...STATUSES] }], ['topic', 'a topic slug or label'], ['q', 'text in the headline or body, any case'])
  @ReadModelOperation({ id: 'listArticles', summary: 'Articles, newest drafted first', answer: PageOf(ArticleListItemDto) })
  list(@Query() query: QueryParams, @Wait() wait: string | undefined, @Res({ passthrough: true }) reply: FastifyReply) {
    const errors: FieldError[] = [];
    const status = queryParam(query, 'status');
    if (status !== undefined && !(STATUSES as string[]).includes(status)) errors.push({ field: 'status', message: `status must be one of ${STATUSES.join(', ')}` });
    const q = queryParam(query, 'q');
    if (q !== undefined && q.length > 200) errors.push({ field: 'q', message: 'q must be at most 200 characters' });
    if (errors.length) throw ProblemException.validation(errors);
    const filter = { status: status as ArticleStatus | undefined, topic: parseTopic(query), q };
    return this.answer.of(reply, wait, [articlesProjection.name], new ListArticles(filter, pageRequest(query, ARTICLES_CURSOR, positionKey)));
  }

  @Get(':id')
  @ReadModelOperation({ id: 'getArticle', summary: 'The article as it stands', answer: ArticleDto, etag: true, problems: ['article-not-found'] })
  async get(@ArticleId() id: string, @Wait() wait: string | undefined, @Res({ passthrough: true }) reply: FastifyReply) {
    const view = await this.answer.of(reply, wait, [articlesProjection.name], new GetArticle(id));
    void reply.header('etag', `"${view.revision}"`);
    return view;
  }

  @Get(':id/claims')
  @ListQuery(['verdict', 'verified, false, misleading, unverifiable, or none (not checked yet)', { type: 'string', enum: [...VERDICT_FILTERS] }])
  @ReadModelOperation({ id: 'listArticleClaims', summary: "The article's claims, in the order they were recorded", answer: PageOf(ClaimDto), problems: ['article-not-found'] })
  claims(@ArticleId() id: string, @Query() query: QueryParams, @Wait() wait: string | undefined, @Res({ passthrough: true }) reply: FastifyReply) {
    const verdict = parseVerdict(query);
    return this.answer.of(reply, wait, [articlesProjection.name], new ListArticleClaims(id, verdict, pageRequest(query, ARTICLE_CLAIMS_CURSOR, positionKey)));
  }

  @Get(':id/history')
  @ListQuery()
  @ReadModelOperation({ id: 'getArticleHistory', summary: 'Every event of the article, oldest first', answer: PageOf(HistoryEntryDto), problems: ['article-not-found'] })
  history(@ArticleId() id: string, @Query() query: QueryParams, @Wait() wait: string | undefined, @Res({ passthrough: true }) reply: FastifyReply) {
    return this.answer.of(reply, wait, [auditProjection.name], new GetArticleHistory(id, pageRequest(query, HISTORY_CURSOR, revisionKey)));
  }

  @Get(':id/revisions/:revision')
  @ApiParam({ name: 'revision', description: 'A stream revision, 0-based.', schema: { type: 'integer', minimum: 0 } })
  @EventLogReadOperation({
    id: 'getArticleAtRevision',
    summary: 'The article as it stood at a stream revision',
    description: "Folded from the event log itself with the command side's own `evolve`, not read from a read model.",
    answer: ArticleDto,
    acceptsWait: true,
    problems: ['article-not-found', 'revision-not-found'],
  })
  revision(@ArticleId() id: string, @Param('revision') revision: string, @Wait() wait: string | undefined) {
    // The event store already holds every acknowledged write: nothing to wait for, but a malformed header is refused.
    parseWaitForPosition(wait);
    return this.queries.execute(new GetArticleAtRevision(id, parseRevision(revision, 'revision')!));
  }

  @Get(':id/diff')
  @ApiQuery({ name: 'from', required: false, description: 'a revision, default 0', schema: { type: 'integer', minimum: 0 } })
  @ApiQuery({ name: 'to', required: false, description: 'a revision, default the current one', schema: { type: 'integer', minimum: 0 } })
  @EventLogReadOperation({
    id: 'diffArticle',
    summary: 'What changed between two revisions',
    description: 'Folded from the event log. `from` defaults to 0, `to` to the current revision; `from` after `to` is 400.',
    answer: ArticleDiffDto,
    acceptsWait: true,
    problems: ['article-not-found', 'revision-not-found'],
  })
  diff(@ArticleId() id: string, @Query() query: QueryParams, @Wait() wait: string | undefined) {
    parseWaitForPosition(wait);
    const errors: FieldError[] = [];
    const parse = (field: string) => {
      try {
        return parseRevision(queryParam(query, field), field);
      } catch (error) {
        if (error instanceof ProblemException) errors.push(...(error.problem.errors ?? []));
        return undefined;
      }
    };
    const from = parse('from');
    const to = parse('to');
    if (errors.length) throw ProblemException.validation(errors);
    return this.queries.execute(new DiffArticleRevisions(id, from, to));
  }
}
