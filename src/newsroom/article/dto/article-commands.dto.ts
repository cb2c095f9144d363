import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsIn, IsOptional, IsUrl, ValidateIf, ValidateNested, ValidateBy } from 'class-validator';
import { OptionalText, Text, Uuid } from '../../../http/validation';
import { slugify } from '../../text';
import { AttributionMethod, Verdict } from '../article.decider';

export const ATTRIBUTION_METHODS: AttributionMethod[] = ['interview', 'press_briefing', 'statement', 'wire', 'document', 'social', 'other'];
export const VERDICTS: Verdict[] = ['verified', 'false', 'misleading', 'unverifiable'];

export class DraftArticleDto {
  @Text(1, 300) headline!: string;
  @Text(1, 100000, 'Paragraphs are split by blank lines.') body!: string;
  @OptionalText(200) byline?: string | null;
  @OptionalText(100) desk?: string | null;
  @Uuid({ optional: true, description: 'Client-chosen article id; generated when absent.' }) id?: string;
}

export class ChangeHeadlineDto {
  @Text(1, 300) headline!: string;
  @OptionalText(500, 'Required once the article is published.') reason?: string | null;
}

export class ReviseBodyDto {
  @Text(1, 100000) body!: string;
  @OptionalText(500, 'Required once the article is published.') reason?: string | null;
}

export class AddQuoteDto {
  @Text(1, 5000, 'Must appear verbatim in the current body (whitespace-normalised).') text!: string;
  @Text(1, 200) speaker!: string;
  @Uuid({ optional: true }) quoteId?: string;
}

export class AttributeQuoteDto {
  @Uuid() sourceId!: string;
  @OptionalText(300, 'How the source said it, e.g. "told the Global Times".') attribution?: string | null;
  @ApiProperty({ enum: ATTRIBUTION_METHODS })
  @IsIn(ATTRIBUTION_METHODS)
  method!: AttributionMethod;
  @OptionalText(500, 'Required once the article is published.') reason?: string | null;
}

export class WithdrawQuoteDto {
  @Text(1, 500) reason!: string;
}

export class TagTopicDto {
  @Text(1, 100, 'A label; its slug is lowercase words joined by "-".')
  @ValidateBy({
    name: 'hasSlug',
    validator: { validate: (v: unknown) => typeof v !== 'string' || slugify(v).length > 0, defaultMessage: () => 'topic must contain a letter or digit' },
  })
  topic!: string;
}

export class RecordClaimDto {
  @Text(1, 2000) text!: string;
  @Uuid({ optional: true, description: 'The quote the claim rests on.' }) quoteId?: string;
  @Uuid({ optional: true }) claimId?: string;
}

export class EvidenceDto {
  @ApiPropertyOptional({ format: 'uri' })
  @IsOptional()
  @IsUrl({ protocols: ['http', 'https'], require_protocol: true, require_tld: false }, { message: 'url must be an http(s) URL' })
  url?: string;
  @Text(1, 2000) note!: string;
}

export class RecordVerdictDto {
  @ApiProperty({ enum: VERDICTS })
  @IsIn(VERDICTS)
  verdict!: Verdict;

  @ApiProperty({ type: [EvidenceDto], description: 'At least one item unless the verdict is unverifiable.' })
  @ValidateIf((o: RecordVerdictDto) => o.verdict !== 'unverifiable' || o.evidence !== undefined)
  @IsArray()
  @ArrayMaxSize(100)
  @ValidateBy({
    name: 'evidenceRequired',
    validator: {
      validate: (value: unknown, args) => (args?.object as RecordVerdictDto).verdict === 'unverifiable' || (Array.isArray(value) && value.length > 0),
      defaultMessage: () => 'evidence needs at least one item unless the verdict is unverifiable',
    },
  })
  @ValidateNested({ each: true })
  @Type(() => EvidenceDto)
  evidence: EvidenceDto[] = [];

  @OptionalText(2000) note?: string | null;
}

export class RetractArticleDto {
  @Text(1, 2000) reason!: string;
}

export class IssueCorrectionDto {
  @Text(1, 2000) text!: string;
}

/** For routes that take no body: anything sent must be an empty object. */
export class EmptyDto {}
