import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { OptionalText, Text, Uuid } from '../../../http/validation';
import { SourceKind } from '../source.decider';

export const SOURCE_KINDS: SourceKind[] = ['person', 'organization', 'document', 'wire'];

export class RegisterSourceDto {
  @Text(1, 200) name!: string;
  @ApiProperty({ enum: SOURCE_KINDS })
  @IsIn(SOURCE_KINDS)
  kind!: SourceKind;
  @OptionalText(200) title?: string | null;
  @OptionalText(200) organization?: string | null;
  @Uuid({ optional: true }) id?: string;
}

export class UpdateSourceDto {
  @IsOptional() @Text(1, 200) name?: string;
  @OptionalText(200, 'null clears it') title?: string | null;
  @OptionalText(200, 'null clears it') organization?: string | null;
}
