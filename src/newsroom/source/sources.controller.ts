import { Body, Controller, Param, Post, Put, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Roles } from '../../auth/auth.guard';
import { IdPipe } from '../../http/id.pipe';
import { WriteOperation } from '../../http/openapi/operations';
import { ProblemException } from '../../http/problem';
import { WriteContext, newId, writeAnswer } from '../../http/write-context';
import { CommandContext } from '../command-context';
import { RegisterSourceDto, UpdateSourceDto } from './dto/source-commands.dto';
import { ExecuteSourceCommand } from './source-command';

@ApiTags('sources')
@ApiBearerAuth()
@Controller('sources')
export class SourcesController {
  constructor(private readonly commands: CommandBus) {}

  @Post()
  @Roles('reporter', 'editor', 'fact_checker')
  @WriteOperation({ id: 'registerSource', summary: 'Register a source', description: '`id` may be chosen by the client.', created: { location: true }, problems: ['source-exists'] })
  async register(@Body() dto: RegisterSourceDto, @WriteContext() context: CommandContext, @Res({ passthrough: true }) reply: FastifyReply) {
    const sourceId = newId(context, dto.id, 'source');
    const result = await this.commands.execute(
      new ExecuteSourceCommand(
        sourceId,
        { type: 'RegisterSource', data: { sourceId, name: dto.name, kind: dto.kind, title: dto.title ?? null, organization: dto.organization ?? null } },
        context,
      ),
    );
    void reply.header('location', `/sources/${sourceId}`);
    return writeAnswer(reply, sourceId, result, 201);
  }

  @Put(':id')
  @Roles('reporter', 'editor', 'fact_checker')
  @WriteOperation({
    id: 'updateSource',
    summary: "Change a source's name, title or organization",
    description: 'Send at least one; `null` clears `title` or `organization`. Quotes keep the source as it was when attributed.',
    problems: ['source-not-found'],
  })
  async update(@Param('id', new IdPipe('source')) id: string, @Body() dto: UpdateSourceDto, @WriteContext() context: CommandContext, @Res({ passthrough: true }) reply: FastifyReply) {
    const data: { name?: string; title?: string | null; organization?: string | null } = {};
    if (dto.name !== undefined && dto.name !== null) data.name = dto.name;
    if (dto.title !== undefined) data.title = dto.title;
    if (dto.organization !== undefined) data.organization = dto.organization;
    if (Object.keys(data).length === 0)
      throw ProblemException.validation([{ field: '(body)', message: 'send at least one of name, title, organization' }]);
    const result = await this.commands.execute(new ExecuteSourceCommand(id, { type: 'UpdateSource', data }, context));
    return writeAnswer(reply, id, result);
  }
}
