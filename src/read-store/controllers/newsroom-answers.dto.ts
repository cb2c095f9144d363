import { ApiProperty } from '@nestjs/swagger';
import { ATTRIBUTION_METHODS } from '../../newsroom/article/dto/article-commands.dto';
import { SOURCE_KINDS } from '../../newsroom/source/dto/source-commands.dto';
import type { ProjectionFailure } from '../../projection-runner/projection-status';
import type { ProjectionStatus } from '../../projection-runner/projection-runner';
import type { AuditEntry } from '../queries/audit.queries';
import type { ClaimAcrossArticles } from '../queries/claims.queries';
import type { SourceItem, SourceQuoteItem } from '../queries/sources.queries';
import type { TopicItem } from '../queries/topics.queries';
import { ClaimDto, HistoryEntryDto, NullableEnum } from './article-answers.dto';

/* The answers of the newsroom-wide reads and the projections admin, for the OpenAPI document. */

const NullableText = (description?: string) => ApiProperty({ type: String, nullable: true, description });

export class AuditEntryDto extends HistoryEntryDto implements AuditEntry {
  @ApiProperty({ example: 'article-0b0b6ad4-6d0c-4a57-9d55-1a3c2f6e8f10' }) streamId!: string;
}

export class ClaimAcrossArticlesDto extends ClaimDto implements ClaimAcrossArticles {
  @ApiProperty({ format: 'uuid' }) articleId!: string;
  @ApiProperty({ description: "The article's current headline." }) headline!: string;
}

export class SourceDto implements SourceItem {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: SOURCE_KINDS }) kind!: string;
  @NullableText() title!: string | null;
  @NullableText() organization!: string | null;
  @ApiProperty({ type: 'integer', minimum: 0, description: 'Quotes attributed to the source now.' }) quoteCount!: number;
}

export class SourceQuoteDto implements SourceQuoteItem {
  @ApiProperty({ format: 'uuid' }) articleId!: string;
  @ApiProperty({ description: "The article's current headline." }) headline!: string;
  @ApiProperty({ format: 'uuid' }) quoteId!: string;
  @ApiProperty() text!: string;
  @NullableText() attribution!: string | null;
  @NullableEnum(ATTRIBUTION_METHODS) method!: string | null;
  @ApiProperty({ enum: ['unattributed', 'attributed', 'withdrawn'] }) status!: string;
}

export class TopicDto implements TopicItem {
  @ApiProperty() slug!: string;
  @ApiProperty({ description: 'As first tagged.' }) label!: string;
  @ApiProperty({ type: 'integer', minimum: 1 }) articleCount!: number;
}

export class ProjectionFailureDto implements ProjectionFailure {
  @ApiProperty({ enum: ['live', 'rebuild'] }) phase!: 'live' | 'rebuild';
  @ApiProperty({ pattern: '^\\d+$', description: 'The position of the event that failed.' }) position!: string;
  @ApiProperty() eventId!: string;
  @ApiProperty() eventType!: string;
  @ApiProperty() streamId!: string;
  @ApiProperty() message!: string;
  @ApiProperty({ format: 'date-time' }) at!: string;
}

export class RebuildProgressDto {
  @ApiProperty({ type: 'integer', minimum: 0, description: 'Events applied so far.' }) done!: number;
  @ApiProperty({ type: 'integer', nullable: true, description: 'Events to apply, once counted.' }) total!: number | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) startedAt!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) requestedAt!: string | null;
}

export class ProjectionStatusDto implements ProjectionStatus {
  @ApiProperty({ example: 'articles' }) name!: string;
  @ApiProperty({ type: 'integer' }) version!: number;
  @ApiProperty({ type: String, pattern: '^\\d+$', nullable: true, description: 'The checkpoint; null before the first event.' }) position!: string | null;
  @ApiProperty({ type: 'integer', minimum: 0, description: 'Events in the log after the checkpoint.' }) lag!: number;
  @ApiProperty({ enum: ['running', 'rebuilding', 'failed', 'stopped'] }) status!: ProjectionStatus['status'];
  @ApiProperty({ type: ProjectionFailureDto, nullable: true }) error!: ProjectionFailureDto | null;
  @ApiProperty({ type: RebuildProgressDto, nullable: true, description: 'While rebuilding.' }) rebuild!: RebuildProgressDto | null;
}
