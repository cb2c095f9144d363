import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { PublishBlocker } from '../../newsroom/article/publish-gate';
import type { FieldError, Problem } from '../problem';

export class FieldErrorDto implements FieldError {
  @ApiProperty({ description: 'The body property (`evidence.0.url`), query parameter or header (`If-Match`); `(body)` for the body as a whole.', example: 'headline' })
  field!: string;
  @ApiProperty({ example: 'headline must be shorter than or equal to 300 characters' })
  message!: string;
}

export class PublishBlockerDto {
  @ApiProperty({ enum: ['quote-unattributed', 'quote-not-in-body', 'claim-unverified'] })
  kind!: PublishBlocker['kind'];
  @ApiPropertyOptional({ format: 'uuid', description: 'For the quote kinds.' })
  quoteId?: string;
  @ApiPropertyOptional({ format: 'uuid', description: 'For `claim-unverified`.' })
  claimId?: string;
  @ApiProperty()
  message!: string;
}

export class TypographicDifferenceDto {
  @ApiProperty({ description: 'The character the quote has.', example: '"' })
  quote!: string;
  @ApiProperty({ description: 'The character the body has there.', example: '“' })
  body!: string;
}

export class QuoteHintDto {
  @ApiProperty({ enum: ['typographic-look-alikes'] })
  kind!: 'typographic-look-alikes';
  @ApiProperty({ description: 'The passage as the body writes it: send this as the quote.' })
  bodyText!: string;
  @ApiProperty({ type: [TypographicDifferenceDto] })
  differences!: TypographicDifferenceDto[];
}

/**
 * RFC 9457 problem details, as every error is answered (`application/problem+json`). `type` is a stable
 * slug to switch on; the optional members are the extensions some types carry.
 */
export class ProblemDto implements Problem {
  [extension: string]: unknown;

  @ApiProperty({ description: 'A stable slug, e.g. `publish-blocked`; each response lists the ones it may carry.', example: 'article-not-found' })
  type!: string;
  @ApiProperty({ description: "The status's reason phrase.", example: 'Not Found' })
  title!: string;
  @ApiProperty({ type: 'integer', example: 404 })
  status!: number;
  @ApiProperty({ description: 'What went wrong, for people; never echoes the request.' })
  detail!: string;

  @ApiPropertyOptional({ type: [FieldErrorDto], description: '`validation-failed`: each invalid field once, at most 20.' })
  errors?: FieldErrorDto[];
  @ApiPropertyOptional({ type: 'integer', minimum: 1, description: '`validation-failed`: how many errors beyond the 20 listed.' })
  moreErrors?: number;
  @ApiPropertyOptional({ type: [PublishBlockerDto], description: '`publish-blocked`: what stops publication (or what the refused change would add).' })
  blockers?: PublishBlockerDto[];
  @ApiPropertyOptional({ type: 'integer', minimum: -1, description: '`revision-mismatch`, `revision-not-found`: the revision the aggregate stands at (-1: no such aggregate).' })
  currentRevision?: number;
  @ApiPropertyOptional({ type: QuoteHintDto, description: '`quote-not-in-body`: when only typographic look-alikes differ.' })
  hint?: QuoteHintDto;
  @ApiPropertyOptional({ description: '`invalid-transition`: the status the article is in.', example: 'draft' })
  from?: string;
  @ApiPropertyOptional({ description: '`invalid-transition`: the status the command would move it to.', example: 'approved' })
  to?: string;
  @ApiPropertyOptional({ pattern: '^\\d+$', description: '`projection-lagging`: how far the read models are.' })
  readPosition?: string;
  @ApiPropertyOptional({ pattern: '^\\d+$', description: '`projection-lagging`: the position asked for.' })
  waitForPosition?: string;
  @ApiPropertyOptional({ enum: ['eventStore', 'readStore'], description: '`store-unavailable`: which store is unreachable.' })
  store?: 'eventStore' | 'readStore';
}
