import { Controller, Get, Headers, Param, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { articlesProjection, sourcesProjection, auditProjection } from '../../../projections';
import type { FastifyReply } from 'fastify';
import { IdPipe } from '../../http/id.pipe';
import { PageOf } from '../../http/openapi/answers.dto';
import { ReadModelOperation } from '../../http/openapi/operations';
import { QueryParams, pageRequest, positionKey, queryParam, textKey, uuidKey } from '../../http/pagination';
import { FieldError, ProblemException } from '../../http/problem';
import { slugify } from '../../newsroom/text';
import { AUDIT_CURSOR, AuditFilter, ListAudit } from '../queries/audit.queries';
import { CLAIMS_CURSOR, ListClaims } from '../queries/claims.queries';
import { GetSource, ListSourceQuotes, ListSources, SOURCES_CURSOR, SOURCE_QUOTES_CURSOR } from '../queries/sources.queries';
import { ListTopics, TOPICS_CURSOR } from '../queries/topics.queries';
import { VERDICT_FILTERS, parseTopic, parseVerdict } from './article-queries.controller';
import { AuditEntryDto, ClaimAcrossArticlesDto, SourceDto, SourceQuoteDto, TopicDto } from './newsroom-answers.dto';
import { ListQuery, ReadAnswer, WAIT_HEADER } from './read-answer';

const Wait = () => Headers(WAIT_HEADER);
const INSTANT = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-](\d{2}):?(\d{2}))?)?$/i;

/**
 * A strict ISO-8601 date or date-time: every part within its calendar range (no 2024-02-30, no 24:00,
 * no offset beyond ±14:00). `Date` would roll such values over into the next month or day.
 */
export function parseInstantText(value: string): Date | undefined {
  const m = INSTANT.exec(value);
  if (!m) return undefined;
  const [year, month, day, hour = 0, minute = 0, second = 0] = [m[1], m[2], m[3], m[4], m[5], m[6]].map((part) => (part === undefined ? undefined : Number(part)));
  const daysInMonth = new Date(Date.UTC(year!, month!, 0)).getUTCDate();
  if (month! < 1 || month! > 12 || day! < 1 || day! > daysInMonth || hour > 23 || minute > 59 || second > 59) return undefined;
  if (m[9] !== undefined && (Number(m[9]) > 14 || Number(m[10]) > 59 || (Number(m[9]) === 14 && Number(m[10]) > 0))) return undefined;
  const at = new Date(m[4] === undefined ? `${m[1]}-${m[2]}-${m[3]}T00:00:00Z` : value.replace(' ', 'T'));
  return Number.isNaN(at.getTime()) ? undefined : at;
}

function parseInstant(query: QueryParams, field: string, errors: FieldError[]): Date | undefined {
  const value = queryParam(query, field);
  if (value === undefined) return undefined;
  const at = parseInstantText(value);
  if (!at) errors.push({ field, message: `${field} must be an ISO-8601 date or date-time, e.g. 2024-05-01T12:00:00Z` });
  return at;
}

/** An optional text filter of at most `max` characters. */
function textFilter(query: QueryParams, field: string, max: number, errors: FieldError[]): string | undefined {
  const value = queryParam(query, field);
  if (value !== undefined && value.length > max) {
    errors.push({ field, message: `${field} must be at most ${max} characters` });
    return undefined;
  }
  return value;
}

const slugKey = (key: unknown): string | undefined => {
  const slug = textKey(key);
  return slug !== undefined && slugify(slug) === slug ? slug : undefined;
};

const sourceKey = (key: unknown): [string, string] | undefined => {
  if (!Array.isArray(key) || key.length !== 2) return undefined;
  const [name, id] = [textKey(key[0]), uuidKey(key[1])];
  return name !== undefined && id !== undefined ? [name, id] : undefined;
};

@ApiTags('claims')
@ApiBearerAuth()
@Controller('claims')
export class ClaimQueriesController {
  constructor(private readonly answer: ReadAnswer) {}

  @Get()
  @ListQuery(['verdict', 'verified, false, misleading, unverifiable, or none', { type: 'string', enum: [...VERDICT_FILTERS] }], ['topic', 'a topic slug or label'])
  @ReadModelOperation({ id: 'listClaims', summary: 'Claims across articles, newest first', answer: PageOf(ClaimAcrossArticlesDto) })
  list(@Query() query: QueryParams, @Wait() wait: string | undefined, @Res({ passthrough: true }) reply: FastifyReply) {
    const filter = { verdict: parseVerdict(query), topic: parseTopic(query) };
    return this.answer.of(reply, wait, [articlesProjection.name], new ListClaims(filter, pageRequest(query, CLAIMS_CURSOR, positionKey)));
  }
}

@ApiTags('audit')
@ApiBearerAuth()
@Controller('audit')
export class AuditQueriesController {
  constructor(private readonly answer: ReadAnswer) {}

  /** Newest first; `since` inclusive, `until` exclusive. */
  @Get()
  @ListQuery(['actor', 'an actor id'], ['type', 'an event type'], ['since', 'ISO-8601, inclusive'], ['until', 'ISO-8601, exclusive'])
  @ReadModelOperation({ id: 'listAudit', summary: 'The newsroom-wide audit trail, newest first', description: 'Every event of every stream. `since` is inclusive, `until` exclusive.', answer: PageOf(AuditEntryDto) })
  list(@Query() query: QueryParams, @Wait() wait: string | undefined, @Res({ passthrough: true }) reply: FastifyReply) {
    const errors: FieldError[] = [];
    const filter: AuditFilter = {
      actor: textFilter(query, 'actor', 200, errors),
      type: textFilter(query, 'type', 200, errors),
      since: parseInstant(query, 'since', errors),
      until: parseInstant(query, 'until', errors),
    };
    if (errors.length) throw ProblemException.validation(errors);
    return this.answer.of(reply, wait, [auditProjection.name], new ListAudit(filter, pageRequest(query, AUDIT_CURSOR, positionKey)));
  }
}

@ApiTags('sources')
@ApiBearerAuth()
@Controller('sources')
export class SourceQueriesController {
  constructor(private readonly answer: ReadAnswer) {}

  @Get()
  @ListQuery(['q', 'text in the name, title or organization, any case'])
  @ReadModelOperation({ id: 'listSources', summary: 'Sources by name', answer: PageOf(SourceDto) })
  list(@Query() query: QueryParams, @Wait() wait: string | undefined, @Res({ passthrough: true }) reply: FastifyReply) {
    const q = queryParam(query, 'q');
    if (q !== undefined && q.length > 200) throw ProblemException.validation([{ field: 'q', message: 'q must be at most 200 characters' }]);
    return this.answer.of(reply, wait, [sourcesProjection.name, articlesProjection.name], new ListSources(q, pageRequest(query, SOURCES_CURSOR, sourceKey)));
  }

  @Get(':id')
  @ReadModelOperation({ id: 'getSource', summary: 'A source', answer: SourceDto, etag: true, problems: ['source-not-found'] })
  async get(@Param('id', new IdPipe('source')) id: string, @Wait() wait: string | undefined, @Res({ passthrough: true }) reply: FastifyReply) {
    const { source, revision } = await this.answer.of(reply, wait, [sourcesProjection.name, articlesProjection.name], new GetSource(id));
    void reply.header('etag', `"${revision}"`);
    return source;
  }

  @Get(':id/quotes')
  @ListQuery()
  @ReadModelOperation({ id: 'listSourceQuotes', summary: 'Every quote attributed to the source, across articles, latest attribution first', answer: PageOf(SourceQuoteDto), problems: ['source-not-found'] })
  quotes(@Param('id', new IdPipe('source')) id: string, @Query() query: QueryParams, @Wait() wait: string | undefined, @Res({ passthrough: true }) reply: FastifyReply) {
    return this.answer.of(reply, wait, [sourcesProjection.name, articlesProjection.name], new ListSourceQuotes(id, pageRequest(query, SOURCE_QUOTES_CURSOR, positionKey)));
  }
}

@ApiTags('topics')
@ApiBearerAuth()
@Controller('topics')
export class TopicQueriesController {
  constructor(private readonly answer: ReadAnswer) {}

  @Get()
  @ListQuery()
  @ReadModelOperation({ id: 'listTopics', summary: 'Topics that at least one article carries, by slug', answer: PageOf(TopicDto) })
  list(@Query() query: QueryParams, @Wait() wait: string | undefined, @Res({ passthrough: true }) reply: FastifyReply) {
    return this.answer.of(reply, wait, [articlesProjection.name], new ListTopics(pageRequest(query, TOPICS_CURSOR, slugKey)));
  }
}
