import { ApiProperty } from '@nestjs/swagger';
import type { ArticleStatus, QuoteStatus, Verdict } from '../../newsroom/article/article.decider';
import type { ArticleView } from '../../newsroom/article/article.view';
import { ATTRIBUTION_METHODS, EvidenceDto, VERDICTS } from '../../newsroom/article/dto/article-commands.dto';
import type { ArticleDiff } from '../queries/article-diff';
import type { HistoryEntry } from '../queries/audit.queries';
import type { ArticleListItem } from '../queries/articles.queries';
import type { ClaimItem } from '../queries/claims.queries';

/*
 * The answers of the article reads, for the OpenAPI document. Each class implements the type its query
 * returns, so that a field the query gains and the document lacks does not compile.
 */

export const ARTICLE_STATUSES: ArticleStatus[] = ['draft', 'in_review', 'approved', 'published', 'retracted'];
const QUOTE_STATUSES: QuoteStatus[] = ['unattributed', 'attributed', 'withdrawn'];
const Id = (description?: string) => ApiProperty({ format: 'uuid', description });
const Instant = (description?: string) => ApiProperty({ format: 'date-time', description });
const NullableText = (description?: string) => ApiProperty({ type: String, nullable: true, description });
/** OpenAPI 3.0: `nullable` lets `null` past `type` only; an `enum` must list it too. */
export const NullableEnum = (values: readonly string[], description?: string) =>
  ApiProperty({ type: String, enum: [...values, null] as string[], nullable: true, description });

export class ActorRefDto {
  @ApiProperty({ description: "The token's `sub`." }) id!: string;
  @ApiProperty() name!: string;
}

export class TopicRefDto {
  @ApiProperty({ example: 'local-infrastructure' }) slug!: string;
  @ApiProperty({ example: 'Local Infrastructure' }) label!: string;
}

export class SourceRefDto {
  @Id() id!: string;
  @ApiProperty() name!: string;
  @NullableText() title!: string | null;
  @NullableText() organization!: string | null;
}

export class ArticleQuoteDto {
  @Id() id!: string;
  @ApiProperty() text!: string;
  @ApiProperty() speaker!: string;
  @ApiProperty({ type: 'integer', minimum: 0, description: 'The 0-based paragraph the quote was found in.' }) paragraph!: number;
  @ApiProperty({ enum: QUOTE_STATUSES }) status!: string;
  @ApiProperty({ description: 'Whether the quote still appears in the body.' }) inBody!: boolean;
  @ApiProperty({ type: SourceRefDto, nullable: true, description: 'The source as it was when attributed.' }) source!: SourceRefDto | null;
  @NullableText() attribution!: string | null;
  @NullableEnum(ATTRIBUTION_METHODS) method!: string | null;
}

export class ClaimDto implements ClaimItem {
  @Id() id!: string;
  @ApiProperty() text!: string;
  @ApiProperty({ type: String, format: 'uuid', nullable: true, description: 'The quote the claim rests on.' }) quoteId!: string | null;
  @NullableEnum(VERDICTS, 'The latest verdict; null until checked.') verdict!: string | null;
  @ApiProperty({ type: [EvidenceDto] }) evidence!: EvidenceDto[];
  @NullableText() note!: string | null;
  @ApiProperty({ type: ActorRefDto, nullable: true }) checkedBy!: ActorRefDto | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) checkedAt!: string | null;
}

export class CorrectionDto {
  @ApiProperty() text!: string;
  @Instant() issuedAt!: string;
  @ApiProperty({ type: ActorRefDto }) issuedBy!: ActorRefDto;
}

export class ArticleDto implements ArticleView {
  @Id() id!: string;
  @ApiProperty() headline!: string;
  @NullableText() byline!: string | null;
  @NullableText() desk!: string | null;
  @ApiProperty({ enum: ARTICLE_STATUSES }) status!: string;
  @ApiProperty({ description: 'Paragraphs are separated by blank lines.' }) body!: string;
  @ApiProperty({ type: 'integer', minimum: 0 }) revision!: number;
  @Instant() createdAt!: string;
  @Instant() updatedAt!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) publishedAt!: string | null;
  @ApiProperty({ type: [ArticleQuoteDto] }) quotes!: ArticleQuoteDto[];
  @ApiProperty({ type: [TopicRefDto] }) topics!: TopicRefDto[];
  @ApiProperty({ type: [ClaimDto] }) claims!: ClaimDto[];
  @ApiProperty({ type: [CorrectionDto] }) corrections!: CorrectionDto[];
}

export class ArticleListItemDto implements ArticleListItem {
  @Id() id!: string;
  @ApiProperty() headline!: string;
  @ApiProperty({ enum: ARTICLE_STATUSES }) status!: string;
  @ApiProperty({ type: 'integer', minimum: 0 }) revision!: number;
  @Instant() updatedAt!: string;
  @ApiProperty({ type: [TopicRefDto] }) topics!: TopicRefDto[];
}

export class EventActorDto {
  @NullableText("The token's `sub`.") id!: string | null;
  @NullableText() name!: string | null;
}

export class HistoryEntryDto implements HistoryEntry {
  @ApiProperty({ type: 'integer', minimum: 0 }) revision!: number;
  @ApiProperty({ pattern: '^\\d+$' }) position!: string;
  @ApiProperty({ description: 'The event type, e.g. `QuoteAdded`.' }) type!: string;
  @Instant() occurredAt!: string;
  @ApiProperty({ type: EventActorDto }) actor!: EventActorDto;
  @NullableText() reason!: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true, description: "The event's data." }) data!: Record<string, unknown>;
}

export class BeforeAfterDto {
  @ApiProperty() before!: string;
  @ApiProperty() after!: string;
}

export class QuoteChangesDto {
  @ApiProperty({ type: [ArticleQuoteDto] }) added!: ArticleQuoteDto[];
  @ApiProperty({ type: [ArticleQuoteDto] }) withdrawn!: ArticleQuoteDto[];
  @ApiProperty({ type: [ArticleQuoteDto] }) attributed!: ArticleQuoteDto[];
}

export class VerdictChangeDto {
  @Id() claimId!: string;
  @NullableEnum(VERDICTS) before!: Verdict | null;
  @ApiProperty({ enum: VERDICTS }) after!: Verdict;
}

export class ClaimChangesDto {
  @ApiProperty({ type: [ClaimDto] }) recorded!: ClaimDto[];
  @ApiProperty({ type: [VerdictChangeDto] }) verdicts!: VerdictChangeDto[];
}

export class TopicChangesDto {
  @ApiProperty({ type: [TopicRefDto] }) added!: TopicRefDto[];
  @ApiProperty({ type: [TopicRefDto] }) removed!: TopicRefDto[];
}

export class ArticleDiffDto implements ArticleDiff {
  @Id() id!: string;
  @ApiProperty({ type: 'integer', minimum: 0 }) from!: number;
  @ApiProperty({ type: 'integer', minimum: 0 }) to!: number;
  @ApiProperty({ type: BeforeAfterDto, nullable: true, description: 'Null when unchanged.' }) headline!: BeforeAfterDto | null;
  @NullableText('A unified diff of the body; null when unchanged.') body!: string | null;
  @NullableEnum(
    ['lines', 'whole'],
    '`lines`: a line diff; `whole`: too costly to compare (over 1,000 changed lines or 500 ms), every old line removed and every new one added; null when the body is unchanged.',
  )
  bodyDiff!: 'lines' | 'whole' | null;
  @ApiProperty({ type: QuoteChangesDto, description: 'As they stand at `to`.' }) quotes!: QuoteChangesDto;
  @ApiProperty({ type: ClaimChangesDto }) claims!: ClaimChangesDto;
  @ApiProperty({ type: TopicChangesDto }) topics!: TopicChangesDto;
  @ApiProperty({ type: BeforeAfterDto, nullable: true, description: 'Null when unchanged.' }) status!: BeforeAfterDto | null;
}
