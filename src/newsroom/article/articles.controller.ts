import { Body, Controller, Delete, Param, Post, Put, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Roles } from '../../auth/auth.guard';
import { IdPipe } from '../../http/id.pipe';
import { ClaimWriteAnswerDto, QuoteWriteAnswerDto } from '../../http/openapi/answers.dto';
import { WriteOperation } from '../../http/openapi/operations';
import { ProblemSpec } from '../../http/openapi/problem-types';
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

const ON_ARTICLE: ProblemSpec[] = ['article-not-found', 'article-retracted'];
const EDITOR_ONLY_WHEN_PUBLISHED: ProblemSpec = ['forbidden', "the article is published and the token is not an editor's"];
const CONTENT_CHANGE =
  "A content change: in `in_review` or `approved` it sends the article back to `draft` (the answer names the revision of `ArticleReturnedToDraft`); on a published article it is an editor's, needs a `reason`, and may not add a publish blocker.";
const NO_BODY = 'No body, or `{}`.';

/** The write routes of API.md's Commands table for articles. Each states a command; the bus does the rest. */
@ApiTags('articles')
@ApiBearerAuth()
@Controller('articles')
export class ArticlesController {
  constructor(private readonly commands: CommandBus) {}

  private async run(reply: FastifyReply, id: string, intent: ArticleIntent, context: CommandContext, status: 200 | 201 = 200, created?: Record<string, string>) {
    const result = await this.commands.execute(new ExecuteArticleCommand(id, intent, context));
    return writeAnswer(reply, id, result, status, created);
  }

  @Post()
  @Roles('reporter', 'editor')
  @WriteOperation({ id: 'draftArticle', summary: 'Draft an article', description: 'Status `draft`. `id` may be chosen by the client.', created: { location: true }, problems: ['article-exists'] })
  async draft(@Body() dto: DraftArticleDto, @WriteContext() context: CommandContext, @Res({ passthrough: true }) reply: FastifyReply) {
    const articleId = newId(context, dto.id, 'article');
    const intent: ArticleIntent = {
      type: 'DraftArticle',
      data: { articleId, headline: dto.headline, body: dto.body, byline: dto.byline ?? null, desk: dto.desk ?? null },
    };
    const answer = await this.run(reply, articleId, intent, context, 201);
    // Only once drafted: a refusal must not point at an article that may not exist.
    void reply.header('location', `/articles/${articleId}`);
    return answer;
  }

  @Put(':id/headline')
  @Roles('reporter', 'editor')
  @WriteOperation({ id: 'changeHeadline', summary: 'Change the headline', description: CONTENT_CHANGE, problems: [...ON_ARTICLE, EDITOR_ONLY_WHEN_PUBLISHED, 'reason-required'] })
  changeHeadline(@ArticleId() id: string, @Body() dto: ChangeHeadlineDto, @WriteContext() context: CommandContext, @Res({ passthrough: true }) reply: FastifyReply) {
    return this.run(reply, id, { type: 'ChangeHeadline', data: { headline: dto.headline, ...(dto.reason ? { reason: dto.reason } : {}) } }, context);
  }

  @Put(':id/body')
  @Roles('reporter', 'editor')
  @WriteOperation({
    id: 'reviseBody',
    summary: 'Revise the body',
    description: `${CONTENT_CHANGE} A quote no longer in the body is marked \`inBody: false\`; to take a quote out of a published article, withdraw it first.`,
    problems: [...ON_ARTICLE, EDITOR_ONLY_WHEN_PUBLISHED, 'publish-blocked', 'reason-required'],
  })
  reviseBody(@ArticleId() id: string, @Body() dto: ReviseBodyDto, @WriteContext() context: CommandContext, @Res({ passthrough: true }) reply: FastifyReply) {
    return this.run(reply, id, { type: 'ReviseBody', data: { body: dto.body, ...(dto.reason ? { reason: dto.reason } : {}) } }, context);
  }

  @Post(':id/quotes')
  @Roles('reporter', 'editor')
  @WriteOperation({
    id: 'addQuote',
    summary: 'Add a quote found verbatim in the body',
    description: `Matched after NFC normalisation and collapsing whitespace; punctuation exactly. ${CONTENT_CHANGE} A published article takes no new quote (it would be live unattributed).`,
    created: {},
    answer: QuoteWriteAnswerDto,
    problems: [...ON_ARTICLE, EDITOR_ONLY_WHEN_PUBLISHED, 'quote-exists', 'publish-blocked', 'quote-not-in-body'],
  })
  addQuote(@ArticleId() id: string, @Body() dto: AddQuoteDto, @WriteContext() context: CommandContext, @Res({ passthrough: true }) reply: FastifyReply) {
    const quoteId = newId(context, dto.quoteId, 'quote');
    return this.run(reply, id, { type: 'AddQuote', data: { quoteId, text: dto.text, speaker: dto.speaker } }, context, 201, { quoteId });
  }

  @Post(':id/quotes/:quoteId/attribution')
  @Roles('reporter', 'editor')
  @WriteOperation({
    id: 'attributeQuote',
    summary: 'Attribute a quote to a registered source (or re-attribute it)',
    description: CONTENT_CHANGE,
    problems: [...ON_ARTICLE, 'quote-not-found', EDITOR_ONLY_WHEN_PUBLISHED, 'quote-withdrawn', 'unknown-source', 'reason-required'],
  })
  attribute(@ArticleId() id: string, @QuoteId() quoteId: string, @Body() dto: AttributeQuoteDto, @WriteContext() context: CommandContext, @Res({ passthrough: true }) reply: FastifyReply) {
    const data = { quoteId, sourceId: dto.sourceId, attribution: dto.attribution ?? null, method: dto.method, ...(dto.reason ? { reason: dto.reason } : {}) };
    return this.run(reply, id, { type: 'AttributeQuote', data }, context);
  }

  @Post(':id/quotes/:quoteId/withdrawal')
  @Roles('reporter', 'editor')
  @WriteOperation({ id: 'withdrawQuote', summary: 'Withdraw a quote', description: CONTENT_CHANGE, problems: [...ON_ARTICLE, 'quote-not-found', EDITOR_ONLY_WHEN_PUBLISHED, 'quote-withdrawn'] })
  withdraw(@ArticleId() id: string, @QuoteId() quoteId: string, @Body() dto: WithdrawQuoteDto, @WriteContext() context: CommandContext, @Res({ passthrough: true }) reply: FastifyReply) {
    return this.run(reply, id, { type: 'WithdrawQuote', data: { quoteId, reason: dto.reason } }, context);
  }

  @Post(':id/topics')
  @Roles('reporter', 'editor')
  @WriteOperation({
    id: 'tagTopic',
    summary: 'Tag the article with a topic',
    description: 'The slug is the label lower-cased, runs of anything but letters and digits replaced by `-`. Tagging a topic already tagged changes nothing (200).',
    created: { unchanged: true },
    problems: ON_ARTICLE,
  })
  tag(@ArticleId() id: string, @Body() dto: TagTopicDto, @WriteContext() context: CommandContext, @Res({ passthrough: true }) reply: FastifyReply) {
    return this.run(reply, id, { type: 'TagTopic', data: { label: dto.topic } }, context, 201);
  }

  @Delete(':id/topics/:slug')
  @Roles('reporter', 'editor')
  @WriteOperation({ id: 'untagTopic', summary: 'Remove a topic from the article', problems: [...ON_ARTICLE, 'topic-not-tagged'] })
  untag(@ArticleId() id: string, @Param('slug') slug: string, @WriteContext() context: CommandContext, @Res({ passthrough: true }) reply: FastifyReply) {
    return this.run(reply, id, { type: 'UntagTopic', data: { slug } }, context);
  }

  @Post(':id/claims')
  @Roles('reporter', 'editor', 'fact_checker')
  @WriteOperation({
    id: 'recordClaim',
    summary: 'Record a claim to be checked',
    description: `${CONTENT_CHANGE} A published article takes no new claim (it would be live without a verdict).`,
    created: {},
    answer: ClaimWriteAnswerDto,
    problems: [...ON_ARTICLE, EDITOR_ONLY_WHEN_PUBLISHED, 'claim-exists', 'publish-blocked', 'unknown-quote'],
  })
  recordClaim(@ArticleId() id: string, @Body() dto: RecordClaimDto, @WriteContext() context: CommandContext, @Res({ passthrough: true }) reply: FastifyReply) {
    const claimId = newId(context, dto.claimId, 'claim');
    return this.run(reply, id, { type: 'RecordClaim', data: { claimId, text: dto.text, quoteId: dto.quoteId ?? null } }, context, 201, { claimId });
  }

  @Post(':id/claims/:claimId/verdict')
  @Roles('fact_checker')
  @WriteOperation({
    id: 'recordVerdict',
    summary: "Record a fact checker's verdict on a claim",
    description: 'A later verdict supersedes the earlier one; the history keeps both. Evidence is required unless the verdict is `unverifiable`. Not a content change.',
    problems: [...ON_ARTICLE, 'claim-not-found'],
  })
  verdict(@ArticleId() id: string, @ClaimId() claimId: string, @Body() dto: RecordVerdictDto, @WriteContext() context: CommandContext, @Res({ passthrough: true }) reply: FastifyReply) {
    const evidence = (dto.evidence ?? []).map((e) => (e.url ? { url: e.url, note: e.note } : { note: e.note }));
    return this.run(reply, id, { type: 'RecordVerdict', data: { claimId, verdict: dto.verdict, evidence, note: dto.note ?? null } }, context);
  }

  @Post(':id/submission')
  @Roles('reporter', 'editor')
  @WriteOperation({ id: 'submitArticle', summary: 'Submit a draft for review', description: `\`draft\` → \`in_review\`. ${NO_BODY}`, problems: [...ON_ARTICLE, 'invalid-transition'] })
  submit(@ArticleId() id: string, @Body() _: EmptyDto, @WriteContext() context: CommandContext, @Res({ passthrough: true }) reply: FastifyReply) {
    return this.run(reply, id, { type: 'SubmitArticle', data: {} }, context);
  }

  @Post(':id/approval')
  @Roles('editor')
  @WriteOperation({
    id: 'approveArticle',
    summary: 'Approve an article in review',
    description: `\`in_review\` → \`approved\`, by someone who neither submitted the article nor wrote any of its content. ${NO_BODY}`,
    problems: [...ON_ARTICLE, 'four-eyes', 'invalid-transition'],
  })
  approve(@ArticleId() id: string, @Body() _: EmptyDto, @WriteContext() context: CommandContext, @Res({ passthrough: true }) reply: FastifyReply) {
    return this.run(reply, id, { type: 'ApproveArticle', data: {} }, context);
  }

  @Post(':id/publication')
  @Roles('editor')
  @WriteOperation({
    id: 'publishArticle',
    summary: 'Publish an approved article',
    description: `\`approved\` → \`published\`, unless a live quote is unattributed or out of the body, or a claim has no verdict (409 \`publish-blocked\` with \`blockers\`). ${NO_BODY}`,
    problems: [...ON_ARTICLE, 'invalid-transition', 'publish-blocked'],
  })
  publish(@ArticleId() id: string, @Body() _: EmptyDto, @WriteContext() context: CommandContext, @Res({ passthrough: true }) reply: FastifyReply) {
    return this.run(reply, id, { type: 'PublishArticle', data: {} }, context);
  }

  @Post(':id/retraction')
  @Roles('editor')
  @WriteOperation({ id: 'retractArticle', summary: 'Retract a published article', description: '`published` → `retracted`; a retracted article never changes again.', problems: [...ON_ARTICLE, 'invalid-transition'] })
  retract(@ArticleId() id: string, @Body() dto: RetractArticleDto, @WriteContext() context: CommandContext, @Res({ passthrough: true }) reply: FastifyReply) {
    return this.run(reply, id, { type: 'RetractArticle', data: { reason: dto.reason } }, context);
  }

  @Post(':id/corrections')
  @Roles('editor')
  @WriteOperation({ id: 'issueCorrection', summary: 'Issue a correction on a published article', created: {}, problems: [...ON_ARTICLE, 'invalid-transition'] })
  correct(@ArticleId() id: string, @Body() dto: IssueCorrectionDto, @WriteContext() context: CommandContext, @Res({ passthrough: true }) reply: FastifyReply) {
    return this.run(reply, id, { type: 'IssueCorrection', data: { text: dto.text } }, context, 201);
  }
}
