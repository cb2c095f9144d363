import { Controller, Get, Inject, Param } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { EVENT_STORE, EventStore } from '../event-store/event-store';
import { IdPipe } from '../http/id.pipe';
import { articleStream } from '../newsroom/article/article.decider';
import { DomainError } from '../newsroom/domain-error';
import { ReadModels } from '../read-store/read-models';
import { AuditReadModelRecord, verifyStream } from './audit-verification';

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
  async verify(@Param('id', new IdPipe('article')) id: string) {
    const result = await verifyStream(this.store, articleStream(id), new AuditReadModelRecord(this.models));
    if (result.events === 0 && result.valid) throw new DomainError('article-not-found', 404, `No article ${id}.`);
    return result;
  }
}
