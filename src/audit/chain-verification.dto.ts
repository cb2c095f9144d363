import { ApiProperty } from '@nestjs/swagger';
import type { ChainBreak, ChainVerification } from '../newsroom/hash-chain';

export class ChainBreakDto implements ChainBreak {
  @ApiProperty({ type: 'integer', minimum: 0 }) revision!: number;
  @ApiProperty({ pattern: '^\\d+$' }) position!: string;
  @ApiProperty() eventId!: string;
  @ApiProperty({ description: 'The event type.' }) type!: string;
  @ApiProperty({
    enum: ['hash-mismatch', 'previous-hash-mismatch', 'revision-gap', 'missing-hash', 'missing-event'],
    description: '`missing-event`: the audit read model recorded an event the log no longer holds there.',
  })
  problem!: ChainBreak['problem'];
}

/** `GET /articles/{id}/audit/verify`. */
export class ChainVerificationDto implements ChainVerification {
  @ApiProperty({ example: 'article-0b0b6ad4-6d0c-4a57-9d55-1a3c2f6e8f10' }) streamId!: string;
  @ApiProperty({ type: 'integer', minimum: 0, description: 'Events checked.' }) events!: number;
  @ApiProperty() valid!: boolean;
  @ApiProperty({ type: ChainBreakDto, nullable: true, description: 'The first event that does not match; null when the chain is intact.' }) firstBreak!: ChainBreakDto | null;
  @ApiProperty({ type: String, nullable: true, description: "The last event's hash: record it somewhere the database's writers cannot reach." }) headHash!: string | null;
}
