import { Controller, Get, Inject, Param } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { EVENT_STORE, EventStore } from '../event-store/event-store';
import { IdPipe } from '../http/id.pipe';
import { EventLogReadOperation } from '../http/openapi/operations';
import { articleStream } from '../newsroom/article/article.decider';
import { DomainError } from '../newsroom/domain-error';
import { ReadModels } from '../read-store/read-models';
import { AuditReadModelRecord, verifyStream } from './audit-verification';
import { ChainVerificationDto } from './chain-verification.dto';

/**
 * Recomputes an article's hash chain from the event log itself (not the read models), and checks that
 * every event the audit read model recorded is still in the log.
 */
@ApiTags('audit')
@ApiBearerAuth()
@Controller('articles')
export class AuditVerifyController {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly models: ReadModels,
  ) {}

  @Get(':id/audit/verify')
  @EventLogReadOperation({
    id: 'verifyArticleChain',
    summary: "Check the article's hash chain against the event log",
    description:
      "Recomputes the chain from the log and checks that every event the audit read model recorded is still there; names the first event that does not match. An article whose whole stream is gone answers 200 with `missing-event`.",
    answer: ChainVerificationDto,
    problems: ['article-not-found'],
  })
  async verify(@Param('id', new IdPipe('article')) id: string) {
    const result = await verifyStream(this.store, articleStream(id), new AuditReadModelRecord(this.models));
    if (result.events === 0 && result.valid) throw new DomainError('article-not-found', `No article ${id}.`);
    return result;
  }
}
