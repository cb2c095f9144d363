import { Body, Controller, Delete, Get, Inject, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Pool } from 'pg';
import { Roles } from '../../auth/auth.guard';
import { CopydeskConfig } from '../../config/configuration';
import { EVENT_STORE, EventStore } from '../../event-store/event-store';
import { IdPipe } from '../../http/id.pipe';
import { PG_POOL } from '../../http/idempotency.interceptor';
import { PageOf, WriteAnswerDto } from '../../http/openapi/answers.dto';
import { IDEMPOTENT_REPLAYED, IdempotencyKeyHeader, Operation, REQUEST_PROBLEMS } from '../../http/openapi/operations';
import { ProblemType } from '../../http/openapi/problem-types';
import { QueryParams, pageRequest, positionKey, toPage } from '../../http/pagination';
import { ProblemException } from '../../http/problem';
import { WriteContext, newId } from '../../http/write-context';
import { CommandContext } from '../../newsroom/command-context';
import { ListQuery } from '../../read-store/controllers/read-answer';
import { DISTRIBUTION_CONFIG } from '../distribution.controller';
import { DestinationRefused, checkDestination } from './destination';
import { generateSecret } from './signing';
import { WebhookEvents, webhookStream } from './webhook-events';
import { SubscriptionRow, findSubscription, insertSubscription, listDeliveries, listSubscriptions, markDeleted } from './webhook-store';
import { CreateWebhookDto, CreatedWebhookDto, DeliveryDto, WebhookDto } from './webhooks.dto';

export const WEBHOOK_EVENTS = Symbol('WEBHOOK_EVENTS');

const READ_PROBLEMS: ProblemType[] = ['unauthorized'];
const SUBSCRIPTIONS_CURSOR = 'webhooks';
const DELIVERIES_CURSOR = 'webhook-deliveries';

const WebhookId = () => Param('id', new IdPipe('webhook'));

function notFound(id: string): ProblemException {
  return ProblemException.of(404, 'webhook-not-found', `No webhook subscription ${id}.`);
}

export function subscriptionView(row: SubscriptionRow): WebhookDto {
  return {
    id: row.id,
    url: row.url,
    events: row.events,
    description: row.description,
    createdAt: row.createdAt.toISOString(),
    position: row.position,
    status: row.status,
    lastError: row.lastError,
  };
}

const subscriptionKey = (key: unknown): [string, string] | undefined =>
  Array.isArray(key) && key.length === 2 && typeof key[0] === 'string' && !Number.isNaN(Date.parse(key[0])) && typeof key[1] === 'string' && /^[0-9a-f-]{36}$/.test(key[1])
    ? [key[0], key[1]]
    : undefined;

/** `/admin/webhooks…`: Standard Webhooks subscriptions (admin only). */
@ApiTags('admin')
@ApiBearerAuth()
@Controller('admin/webhooks')
export class WebhooksController {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(PG_POOL) private readonly pool: Pool,
    @Inject(DISTRIBUTION_CONFIG) private readonly config: CopydeskConfig,
    @Inject(WEBHOOK_EVENTS) private readonly events: WebhookEvents,
  ) {}

  @Post()
  @Roles('admin')
  @Operation(
    {
      id: 'createWebhook',
      summary: 'Subscribe an HTTP endpoint to events (Standard Webhooks)',
      description:
        'Deliveries start with the first event after this one, in log order. The answer is the only place the `secret` is shown. Recorded in the audit trail as `WebhookSubscribed` (stream `webhook-<id>`; the destination by origin only, never the secret).',
      problems: ['webhook-destination-refused'],
    },
    REQUEST_PROBLEMS,
  )
  @IdempotencyKeyHeader()
  @ApiResponse({ status: 201, description: 'Subscribed.', type: CreatedWebhookDto, headers: { 'Idempotent-Replayed': IDEMPOTENT_REPLAYED } })
  async create(@Body() body: CreateWebhookDto, @WriteContext() context: CommandContext) {
    const url = new URL(body.url);
    try {
      await checkDestination(url, this.config.webhooks.allowPrivate);
    } catch (error) {
      if (!(error instanceof DestinationRefused)) throw error;
      throw ProblemException.of(422, 'webhook-destination-refused', `Webhook destination refused: ${error.message}.`, { errors: [{ field: 'url', message: error.message }] });
    }
    const id = newId(context, undefined, 'webhook');
    const events = [...new Set(body.events)];
    const subscription = { url: body.url, events: events.includes('*') ? ['*'] : events, description: body.description ?? null };
    const appended = await this.events.subscribed(context, id, subscription);
    const row = await insertSubscription(this.pool, {
      id,
      ...subscription,
      secret: generateSecret(),
      createdAt: new Date(context.now),
      createdBy: context.actor.id,
      position: appended.position,
    });
    return { id: row.id, url: row.url, events: row.events, secret: row.secret, createdAt: row.createdAt.toISOString() };
  }

  @Get()
  @Roles('admin')
  @ListQuery()
  @Operation({ id: 'listWebhooks', summary: 'Webhook subscriptions (without their secrets), newest first', problems: ['validation-failed'] }, READ_PROBLEMS)
  @ApiResponse({ status: 200, description: 'OK.', type: PageOf(WebhookDto) })
  async list(@Query() query: QueryParams) {
    const page = pageRequest(query, SUBSCRIPTIONS_CURSOR, subscriptionKey);
    const rows = await listSubscriptions(this.pool, page.limit + 1, page.after ? { createdAt: page.after[0], id: page.after[1] } : null);
    return toPage(rows, page, SUBSCRIPTIONS_CURSOR, (r) => [r.createdAt.toISOString(), r.id], subscriptionView);
  }

  @Get(':id')
  @Roles('admin')
  @Operation({ id: 'getWebhook', summary: 'A webhook subscription (without its secret): checkpoint, status, last error', problems: ['webhook-not-found'] }, READ_PROBLEMS)
  @ApiResponse({ status: 200, description: 'OK.', type: WebhookDto })
  async get(@WebhookId() id: string) {
    const row = await findSubscription(this.pool, id);
    if (!row) throw notFound(id);
    return subscriptionView(row);
  }

  @Delete(':id')
  @Roles('admin')
  @Operation(
    {
      id: 'deleteWebhook',
      summary: 'Delete a webhook subscription: deliveries stop',
      description: 'Recorded in the audit trail as `WebhookUnsubscribed`. The answer is the write answer of that event (stream `webhook-<id>`).',
      problems: ['webhook-not-found'],
    },
    REQUEST_PROBLEMS,
  )
  @IdempotencyKeyHeader()
  @ApiResponse({ status: 200, description: 'Deleted.', type: WriteAnswerDto, headers: { 'Idempotent-Replayed': IDEMPOTENT_REPLAYED } })
  async remove(@WebhookId() id: string, @WriteContext() context: CommandContext) {
    // The log says whether it exists: subscribed, and not unsubscribed since.
    const history = await this.store.readStream(webhookStream(id));
    if (!history.some((e) => e.type === 'WebhookSubscribed') || history.some((e) => e.type === 'WebhookUnsubscribed')) throw notFound(id);
    const appended = await this.events.unsubscribed(context, id);
    await markDeleted(this.pool, id);
    return { id, revision: appended.revision, position: appended.position };
  }

  @Get(':id/deliveries')
  @Roles('admin')
  @ListQuery()
  @Operation(
    { id: 'listWebhookDeliveries', summary: "A subscription's deliveries, newest first, with their attempts", problems: ['validation-failed', 'webhook-not-found'] },
    READ_PROBLEMS,
  )
  @ApiResponse({ status: 200, description: 'OK.', type: PageOf(DeliveryDto) })
  async deliveries(@WebhookId() id: string, @Query() query: QueryParams) {
    const page = pageRequest(query, DELIVERIES_CURSOR, positionKey);
    if (!(await findSubscription(this.pool, id, true))) throw notFound(id);
    const rows = await listDeliveries(this.pool, id, page.limit + 1, page.after);
    return toPage(rows, page, DELIVERIES_CURSOR, (r) => r.position, (r) => r);
  }
}
