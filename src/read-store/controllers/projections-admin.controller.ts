import { Controller, Get, HttpCode, Param, Post, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Roles } from '../../auth/auth.guard';
import { GetProjectionStatuses, RequestProjectionRebuild } from '../queries/projections.queries';
import { READ_POSITION_HEADER } from './read-answer';

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
  async list(@Res({ passthrough: true }) reply: FastifyReply) {
    const { value, position } = await this.queries.execute(new GetProjectionStatuses());
    void reply.header(READ_POSITION_HEADER, position);
    return { items: value, nextCursor: null };
  }

  /** 202: the rebuild runs in the background while reads keep answering from the live tables. */
  @Post(':name/rebuild')
  @Roles('admin')
  @HttpCode(202)
  rebuild(@Param('name') name: string) {
    return this.commands.execute(new RequestProjectionRebuild(name));
  }
}
