import { Controller, Get, Headers, Param, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { IdPipe } from '../../http/id.pipe';
import { QueryParams, pageRequest, positionKey, queryParam, textKey } from '../../http/pagination';
import { FieldError, ProblemException } from '../../http/problem';
import { AUDIT_CURSOR, AuditFilter, ListAudit } from '../queries/audit.queries';
import { CLAIMS_CURSOR, ListClaims } from '../queries/claims.queries';
import { GetSource, ListSourceQuotes, ListSources, SOURCES_CURSOR, SOURCE_QUOTES_CURSOR } from '../queries/sources.queries';
import { ListTopics, TOPICS_CURSOR } from '../queries/topics.queries';
import { parseTopic, parseVerdict } from './article-queries.controller';
import { ListQuery, ReadAnswer, WAIT_HEADER } from './read-answer';

const Wait = () => Headers(WAIT_HEADER);
const WAIT_DOC = { name: 'X-Wait-For-Position', required: false, description: 'wait (at most 5 s) until the read models have projected this position' };
const ISO_8601 = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;

function parseInstant(query: QueryParams, field: string, errors: FieldError[]): Date | undefined {
  const value = queryParam(query, field);
  if (value === undefined) return undefined;
  const at = ISO_8601.test(value) ? new Date(value) : new Date(NaN);
  if (Number.isNaN(at.getTime())) {
    errors.push({ field, message: `${field} must be an ISO-8601 date or date-time, e.g. 2024-05-01T12:00:00Z` });
    return undefined;
  }
  return at;
}

const sourceKey = (key: unknown): [string, string] | undefined =>
  Array.isArray(key) && key.length === 2 && typeof key[0] === 'string' && typeof key[1] === 'string' && /^[0-9a-f-]{36}$/.test(key[1])
    ? [key[0], key[1]]
    : undefined;

@ApiTags('claims')
@ApiBearerAuth()
@ApiHeader(WAIT_DOC)
@Controller('claims')
export class ClaimQueriesController {
  constructor(private readonly answer: ReadAnswer) {}

  @Get()
  @ListQuery(['verdict', 'verified, false, misleading, unverifiable, or none'], ['topic', 'a topic slug or label'])
  list(@Query() query: QueryParams, @Wait() wait: string | undefined, @Res({ passthrough: true }) reply: FastifyReply) {
    const filter = { verdict: parseVerdict(query), topic: parseTopic(query) };
    return this.answer.of(reply, wait, ['claims'], new ListClaims(filter, pageRequest(query, CLAIMS_CURSOR, positionKey)));
  }
}

@ApiTags('audit')
@ApiBearerAuth()
@ApiHeader(WAIT_DOC)
@Controller('audit')
export class AuditQueriesController {
  constructor(private readonly answer: ReadAnswer) {}

  /** Newest first; `since` inclusive, `until` exclusive. */
  @Get()
  @ListQuery(['actor', 'an actor id'], ['type', 'an event type'], ['since', 'ISO-8601, inclusive'], ['until', 'ISO-8601, exclusive'])
  list(@Query() query: QueryParams, @Wait() wait: string | undefined, @Res({ passthrough: true }) reply: FastifyReply) {
    const errors: FieldError[] = [];
    const filter: AuditFilter = {
      actor: queryParam(query, 'actor'),
      type: queryParam(query, 'type'),
      since: parseInstant(query, 'since', errors),
      until: parseInstant(query, 'until', errors),
    };
    if (errors.length) throw ProblemException.validation(errors);
    return this.answer.of(reply, wait, ['audit'], new ListAudit(filter, pageRequest(query, AUDIT_CURSOR, positionKey)));
  }
}

@ApiTags('sources')
@ApiBearerAuth()
@ApiHeader(WAIT_DOC)
@Controller('sources')
export class SourceQueriesController {
  constructor(private readonly answer: ReadAnswer) {}

  @Get()
  @ListQuery(['q', 'text in the name, title or organization, any case'])
  list(@Query() query: QueryParams, @Wait() wait: string | undefined, @Res({ passthrough: true }) reply: FastifyReply) {
    const q = queryParam(query, 'q');
    if (q !== undefined && q.length > 200) throw ProblemException.validation([{ field: 'q', message: 'q must be at most 200 characters' }]);
    return this.answer.of(reply, wait, ['sources'], new ListSources(q, pageRequest(query, SOURCES_CURSOR, sourceKey)));
  }

  @Get(':id')
  async get(@Param('id', new IdPipe('source')) id: string, @Wait() wait: string | undefined, @Res({ passthrough: true }) reply: FastifyReply) {
    const { source, revision } = await this.answer.of(reply, wait, ['sources'], new GetSource(id));
    void reply.header('etag', `"${revision}"`);
    return source;
  }

  @Get(':id/quotes')
  @ListQuery()
  quotes(@Param('id', new IdPipe('source')) id: string, @Query() query: QueryParams, @Wait() wait: string | undefined, @Res({ passthrough: true }) reply: FastifyReply) {
    return this.answer.of(reply, wait, ['sources'], new ListSourceQuotes(id, pageRequest(query, SOURCE_QUOTES_CURSOR, positionKey)));
  }
}

@ApiTags('topics')
@ApiBearerAuth()
@ApiHeader(WAIT_DOC)
@Controller('topics')
export class TopicQueriesController {
  constructor(private readonly answer: ReadAnswer) {}

  @Get()
  @ListQuery()
  list(@Query() query: QueryParams, @Wait() wait: string | undefined, @Res({ passthrough: true }) reply: FastifyReply) {
    return this.answer.of(reply, wait, ['topics'], new ListTopics(pageRequest(query, TOPICS_CURSOR, textKey)));
  }
}
