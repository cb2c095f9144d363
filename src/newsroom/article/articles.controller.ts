import { Body, Controller, Delete, Param, Post, Put, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Roles } from '../../auth/auth.guard';
import { IdPipe } from '../../http/id.pipe';
import { WriteContext, newId, writeAnswer } from '../../http/write-context';
import { CommandContext } from '../command-context';
import { ArticleIntent, ExecuteArticleCommand } from './article-command';
import {
  AddQuoteDto,
  AttributeQuoteDto,
  ChangeHeadlineDto,
  DraftArticleDto,
  EmptyDto,
  IssueCorrectionDto,
  RecordClaimDto,
  RecordVerdictDto,
  RetractArticleDto,
  ReviseBodyDto,
  TagTopicDto,
  WithdrawQuoteDto,
} from './dto/article-commands.dto';

const ArticleId = () => Param('id', new IdPipe('article'));
const QuoteId = () => Param('quoteId', new IdPipe('quote'));
const ClaimId = () => Param('claimId', new IdPipe('claim'));

/** The write routes of API.md's Commands table for articles. Each states a command; the bus does the rest. */
@ApiTags('articles')
@ApiBearerAuth()
@Controller('articles')
export class ArticlesController {
  constructor(private readonly commands: CommandBus) {}

  private async run(reply: FastifyReply, id: string, intent: ArticleIntent, context: CommandContext, status: 200 | 201 = 200, created?: Record<string, string>) {
    const result = await this.commands.execute(new ExecuteArticleCommand(id, intent, context, created));
    return writeAnswer(reply, result, status);
  }

  @Post()
  @Roles('reporter', 'editor')
  draft(@Body() dto: DraftArticleDto, @WriteContext() context: CommandContext, @Res({ passthrough: true }) reply: FastifyReply) {
    const articleId = newId(context, dto.id, 'article');
    const intent: ArticleIntent = {
      type: 'DraftArticle',
      data: { articleId, headline: dto.headline, body: dto.body, byline: dto.byline ?? null, desk: dto.desk ?? null },
    };
    void reply.header('location', `/articles/${articleId}`);
    return this.run(reply, articleId, intent, context, 201);
  }

  @Put(':id/headline')
  @Roles('reporter', 'editor')
  changeHeadline(@ArticleId() id: string, @Body() dto: ChangeHeadlineDto, @WriteContext() context: CommandContext, @Res({ passthrough: true }) reply: FastifyReply) {
    return this.run(reply, id, { type: 'ChangeHeadline', data: { headline: dto.headline, ...(dto.reason ? { reason: dto.reason } : {}) } }, context);
  }

  @Put(':id/body')
  @Roles('reporter', 'editor')
  reviseBody(@ArticleId() id: string, @Body() dto: ReviseBodyDto, @WriteContext() context: CommandContext, @Res({ passthrough: true }) reply: FastifyReply) {
    return this.run(reply, id, { type: 'ReviseBody', data: { body: dto.body, ...(dto.reason ? { reason: dto.reason } : {}) } }, context);
  }

  @Post(':id/quotes')
  @Roles('reporter', 'editor')
  addQuote(@ArticleId() id: string, @Body() dto: AddQuoteDto, @WriteContext() context: CommandContext, @Res({ passthrough: true }) reply: FastifyReply) {
    const quoteId = newId(context, dto.quoteId, 'quote');
    return this.run(reply, id, { type: 'AddQuote', data: { quoteId, text: dto.text, speaker: dto.speaker } }, context, 201, { quoteId });
  }

  @Post(':id/quotes/:quoteId/attribution')
  @Roles('reporter', 'editor')
  attribute(@ArticleId() id: string, @QuoteId() quoteId: string, @Body() dto: AttributeQuoteDto, @WriteContext() context: CommandContext, @Res({ passthrough: true }) reply: FastifyReply) {
    const data = { quoteId, sourceId: dto.sourceId, attribution: dto.attribution ?? null, method: dto.method, ...(dto.reason ? { reason: dto.reason } : {}) };
    return this.run(reply, id, { type: 'AttributeQuote', data }, context);
  }

  @Post(':id/quotes/:quoteId/withdrawal')
  @Roles('reporter', 'editor')
  withdraw(@ArticleId() id: string, @QuoteId() quoteId: string, @Body() dto: WithdrawQuoteDto, @WriteContext() context: CommandContext, @Res({ passthrough: true }) reply: FastifyReply) {
    return this.run(reply, id, { type: 'WithdrawQuote', data: { quoteId, reason: dto.reason } }, context);
  }

  @Post(':id/topics')
  @Roles('reporter', 'editor')
  tag(@ArticleId() id: string, @Body() dto: TagTopicDto, @WriteContext() context: CommandContext, @Res({ passthrough: true }) reply: FastifyReply) {
    return this.run(reply, id, { type: 'TagTopic', data: { label: dto.topic } }, context, 201);
  }

  @Delete(':id/topics/:slug')
  @Roles('reporter', 'editor')
  untag(@ArticleId() id: string, @Param('slug') slug: string, @WriteContext() context: CommandContext, @Res({ passthrough: true }) reply: FastifyReply) {
    return this.run(reply, id, { type: 'UntagTopic', data: { slug } }, context);
  }

  @Post(':id/claims')
  @Roles('reporter', 'editor', 'fact_checker')
  recordClaim(@ArticleId() id: string, @Body() dto: RecordClaimDto, @WriteContext() context: CommandContext, @Res({ passthrough: true }) reply: FastifyReply) {
    const claimId = newId(context, dto.claimId, 'claim');
    return this.run(reply, id, { type: 'RecordClaim', data: { claimId, text: dto.text, quoteId: dto.quoteId ?? null } }, context, 201, { claimId });
  }

  @Post(':id/claims/:claimId/verdict')
  @Roles('fact_checker')
  verdict(@ArticleId() id: string, @ClaimId() claimId: string, @Body() dto: RecordVerdictDto, @WriteContext() context: CommandContext, @Res({ passthrough: true }) reply: FastifyReply) {
    const evidence = (dto.evidence ?? []).map((e) => (e.url ? { url: e.url, note: e.note } : { note: e.note }));
    return this.run(reply, id, { type: 'RecordVerdict', data: { claimId, verdict: dto.verdict, evidence, note: dto.note ?? null } }, context);
  }

  @Post(':id/submission')
  @Roles('reporter', 'editor')
  submit(@ArticleId() id: string, @Body() _: EmptyDto, @WriteContext() context: CommandContext, @Res({ passthrough: true }) reply: FastifyReply) {
    return this.run(reply, id, { type: 'SubmitArticle', data: {} }, context);
  }

  @Post(':id/approval')
  @Roles('editor')
  approve(@ArticleId() id: string, @Body() _: EmptyDto, @WriteContext() context: CommandContext, @Res({ passthrough: true }) reply: FastifyReply) {
    return this.run(reply, id, { type: 'ApproveArticle', data: {} }, context);
  }

  @Post(':id/publication')
  @Roles('editor')
  publish(@ArticleId() id: string, @Body() _: EmptyDto, @WriteContext() context: CommandContext, @Res({ passthrough: true }) reply: FastifyReply) {
    return this.run(reply, id, { type: 'PublishArticle', data: {} }, context);
  }

  @Post(':id/retraction')
  @Roles('editor')
  retract(@ArticleId() id: string, @Body() dto: RetractArticleDto, @WriteContext() context: CommandContext, @Res({ passthrough: true }) reply: FastifyReply) {
    return this.run(reply, id, { type: 'RetractArticle', data: { reason: dto.reason } }, context);
  }

  @Post(':id/corrections')
  @Roles('editor')
  correct(@ArticleId() id: string, @Body() dto: IssueCorrectionDto, @WriteContext() context: CommandContext, @Res({ passthrough: true }) reply: FastifyReply) {
    return this.run(reply, id, { type: 'IssueCorrection', data: { text: dto.text } }, context, 201);
  }
}
