import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsString, IsUrl, MaxLength } from 'class-validator';
import { OptionalText } from '../../http/validation';
import { DELIVERABLE_EVENT_TYPES } from './payload';

const EVENT_CHOICES = ['*', ...DELIVERABLE_EVENT_TYPES];

export class CreateWebhookDto {
  @ApiProperty({ format: 'uri', maxLength: 2000, description: 'Where to POST: http(s). Loopback and private networks are refused unless `WEBHOOK_ALLOW_PRIVATE=true`.' })
  @IsString()
  @MaxLength(2000)
  @IsUrl({ protocols: ['http', 'https'], require_protocol: true, require_tld: false }, { message: 'url must be an http(s) URL' })
  url!: string;

  @ApiProperty({ type: [String], enum: EVENT_CHOICES, description: 'Event types to deliver, or `["*"]` for every newsroom event.' })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(EVENT_CHOICES.length)
  @IsIn(EVENT_CHOICES, { each: true, message: `each of events must be "*" or an event type: ${DELIVERABLE_EVENT_TYPES.join(', ')}` })
  events!: string[];

  @OptionalText(500) description?: string | null;
}

export const SUBSCRIPTION_STATUSES = ['active', 'failing', 'disabled'];

export class WebhookDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() url!: string;
  @ApiProperty({ type: [String] }) events!: string[];
  @ApiProperty({ type: String, nullable: true }) description!: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ pattern: '^\\d+$', description: 'The checkpoint: every event up to this position is delivered (or not one the subscription wants).' }) position!: string;
  @ApiProperty({ enum: SUBSCRIPTION_STATUSES, description: '`failing` while an event is being retried; `disabled` after 24 h of failures.' }) status!: string;
  @ApiProperty({ type: String, nullable: true, description: 'Why the last attempt failed, while failing or disabled.' }) lastError!: string | null;
}

export class CreatedWebhookDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() url!: string;
  @ApiProperty({ type: [String] }) events!: string[];
  @ApiProperty({ description: '`whsec_` + base64 of 32 random bytes: the signing key. Shown only in this answer.' }) secret!: string;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
}

export class DeliveryDto {
  @ApiProperty({ format: 'uuid', description: 'Also the `webhook-id` header of every attempt.' }) eventId!: string;
  @ApiProperty() eventType!: string;
  @ApiProperty() streamId!: string;
  @ApiProperty({ pattern: '^\\d+$' }) position!: string;
  @ApiProperty({ type: 'integer', minimum: 1 }) attempts!: number;
  @ApiProperty({ enum: ['delivered', 'retrying', 'failed'] }) status!: string;
  @ApiProperty({ type: 'integer', nullable: true, description: 'The HTTP status of the last attempt; null when none came.' }) responseStatus!: number | null;
  @ApiProperty({ type: String, nullable: true }) lastError!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) deliveredAt!: string | null;
}
