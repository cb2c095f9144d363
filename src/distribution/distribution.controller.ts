import { Controller, Get, Headers, Inject, Param, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { CopydeskConfig } from '../config/configuration';
import { EVENT_STORE, EventStore } from '../event-store/event-store';
import { IdPipe } from '../http/id.pipe';
import { Operation, WaitForPositionHeader } from '../http/openapi/operations';
import { QueryParams, queryParam } from '../http/pagination';
import { parseWaitForPosition } from '../http/read-your-writes';
import { WAIT_HEADER, parseRevision } from '../read-store/controllers/read-answer';
import { toClaimReviews } from './claim-review';
import { readForDistribution } from './distribution-reader';
import { CLAIM_REVIEWS_SCHEMA, NINJS_SCHEMA } from './distribution.schemas';
import { toNinjs } from './ninjs';

export const DISTRIBUTION_CONFIG = Symbol('DISTRIBUTION_CONFIG');

const ArticleId = () => Param('id', new IdPipe('article'));
const WAIT = 'Accepted, and nothing to wait for: the document is folded from the event log, which holds every acknowledged write. Malformed is 400.';

/** ninjs and ClaimReview: the article as other systems read it, folded from its event stream. */
@ApiTags('distribution')
@ApiBearerAuth()
@Controller('articles')
export class DistributionController {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(DISTRIBUTION_CONFIG) private readonly config: CopydeskConfig,
  ) {}

  @Get(':id/ninjs')
  @ApiQuery({ name: 'revision', required: false, description: 'a stream revision (0-based); default the current one', schema: { type: 'integer', minimum: 0 } })
  @Operation(
    {
      id: 'getArticleNinjs',
      summary: 'The article as an IPTC ninjs 2.2 document',
      description: 'Folded from the event log (`?revision=N`: as it stood at revision N). Valid against the official ninjs 2.2 JSON Schema.',
      problems: ['article-not-found', 'revision-not-found'],
    },
    ['validation-failed', 'unauthorized', 'store-unavailable'],
  )
  @WaitForPositionHeader(WAIT)
  @ApiResponse({ status: 200, description: 'OK.', content: { 'application/json': { schema: NINJS_SCHEMA } } })
  async ninjs(@ArticleId() id: string, @Query() query: QueryParams, @Headers(WAIT_HEADER) wait: string | undefined) {
    parseWaitForPosition(wait);
    const revision = parseRevision(queryParam(query, 'revision'), 'revision');
    const { article, kinds } = await readForDistribution(this.store, id, revision);
    return toNinjs(article, kinds, { publicUrl: this.config.publicUrl });
  }

  @Get(':id/claim-reviews')
  @Operation(
    {
      id: 'getArticleClaimReviews',
      summary: "schema.org ClaimReview (JSON-LD) for each of the article's claims with a verdict",
      description: 'Folded from the event log: the current verdict of each claim, by `COPYDESK_ORGANIZATION`.',
      problems: ['article-not-found'],
    },
    ['validation-failed', 'unauthorized', 'store-unavailable'],
  )
  @WaitForPositionHeader(WAIT)
  @ApiResponse({ status: 200, description: 'OK.', content: { 'application/ld+json': { schema: CLAIM_REVIEWS_SCHEMA } } })
  async claimReviews(@ArticleId() id: string, @Headers(WAIT_HEADER) wait: string | undefined, @Res({ passthrough: true }) reply: FastifyReply) {
    parseWaitForPosition(wait);
    const { article, kinds } = await readForDistribution(this.store, id);
    void reply.header('content-type', 'application/ld+json; charset=utf-8');
    return toClaimReviews(article, kinds, { publicUrl: this.config.publicUrl, organization: this.config.organization });
  }
}
