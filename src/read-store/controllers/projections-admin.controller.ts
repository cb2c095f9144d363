import { Controller, Get, HttpCode, Param, Post, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiAcceptedResponse, ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Roles } from '../../auth/auth.guard';
import { PageOf } from '../../http/openapi/answers.dto';
import { IDEMPOTENT_REPLAYED, IdempotencyKeyHeader, Operation, REQUEST_PROBLEMS, ReadModelOperation } from '../../http/openapi/operations';
import { GetProjectionStatuses, RequestProjectionRebuild } from '../queries/projections.queries';
import { ProjectionStatusDto } from './newsroom-answers.dto';
import { READ_POSITION_HEADER } from './read-answer';

const REBUILD_PROBLEMS = [...REQUEST_PROBLEMS, 'projection-not-found'] as const;

@ApiTags('admin')
@ApiBearerAuth()
@Controller('admin/projections')
export class ProjectionsAdminController {
  constructor(
    private readonly queries: QueryBus,
    private readonly commands: CommandBus,
  ) {}

  /** `{name, version, position, lag, status, error}` for each projection (plus rebuild progress). */
  @Get()
  @Roles('admin')
  @ReadModelOperation({
    id: 'listProjections',
    summary: 'Each projection: checkpoint, lag, status, failure, rebuild progress',
    description: '`nextCursor` is always null: every projection is on the one page.',
    answer: PageOf(ProjectionStatusDto),
    wait: false,
  })
  async list(@Res({ passthrough: true }) reply: FastifyReply) {
    const { value, position } = await this.queries.execute(new GetProjectionStatuses());
    void reply.header(READ_POSITION_HEADER, position);
    return { items: value, nextCursor: null };
  }

  /** 202: the rebuild runs in the background while reads keep answering from the live tables. */
  @Post(':name/rebuild')
  @Roles('admin')
  @HttpCode(202)
  @Operation({ id: 'rebuildProjection', summary: 'Rebuild a projection from the first event, in the background' }, REBUILD_PROBLEMS)
  @IdempotencyKeyHeader()
  @ApiAcceptedResponse({
    description: 'Asked for: the projection as it stands now (`rebuilding`); reads keep answering from the live tables meanwhile.',
    type: ProjectionStatusDto,
    headers: { 'Idempotent-Replayed': IDEMPOTENT_REPLAYED },
  })
  rebuild(@Param('name') name: string) {
    return this.commands.execute(new RequestProjectionRebuild(name));
  }
}
