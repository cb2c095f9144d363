import { Controller, Get, Inject, Res } from '@nestjs/common';
import { ApiOkResponse, ApiProperty, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Pool } from 'pg';
import { Public } from '../auth/auth.guard';
import { EVENT_STORE, EventStore } from '../event-store/event-store';
import { PG_POOL } from '../http/idempotency.interceptor';
import { Operation } from '../http/openapi/operations';
import { RETRY_AFTER_SECONDS } from '../http/problem.filter';

const PROBE_TIMEOUT_MS = 3000;

function probe(check: () => Promise<unknown>): Promise<'up' | 'down'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'down'>((resolve) => (timer = setTimeout(() => resolve('down'), PROBE_TIMEOUT_MS)));
  return Promise.race([check().then(() => 'up' as const, () => 'down' as const), timeout]).finally(() => clearTimeout(timer));
}

class HealthDto {
  @ApiProperty({ enum: ['ok', 'unavailable'] }) status!: 'ok' | 'unavailable';
  @ApiProperty({ enum: ['up', 'down'] }) eventStore!: 'up' | 'down';
  @ApiProperty({ enum: ['up', 'down'] }) readStore!: 'up' | 'down';
  @ApiProperty({ enum: ['postgres', 'eventstoredb'], description: 'Which store holds the events.' }) eventStoreKind!: EventStore['kind'];
}

/**
 * `GET /health`: `{status, eventStore, readStore}`; 503 naming the store that is down. A plain
 * controller rather than @nestjs/terminus, whose answer shape is not the one API.md fixes.
 */
@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    @Inject(EVENT_STORE) private readonly eventStore: EventStore,
    @Inject(PG_POOL) private readonly pool: Pool,
  ) {}

  @Get()
  @Public()
  @Operation({ id: 'health', summary: 'Whether the event store and the read database answer', description: 'No token needed.' }, [])
  @ApiOkResponse({ description: 'Both stores are up.', type: HealthDto })
  @ApiServiceUnavailableResponse({
    description: 'A store is down: the same body, naming it.',
    type: HealthDto,
    headers: { 'Retry-After': { description: 'Seconds to wait before retrying.', required: true, schema: { type: 'integer', minimum: 1 } } },
  })
  async health(@Res({ passthrough: true }) reply: FastifyReply): Promise<HealthDto> {
    const [eventStore, readStore] = await Promise.all([probe(() => this.eventStore.ping()), probe(() => this.pool.query('SELECT 1'))]);
    const ok = eventStore === 'up' && readStore === 'up';
    if (!ok) void reply.status(503).header('retry-after', RETRY_AFTER_SECONDS);
    return { status: ok ? 'ok' : 'unavailable', eventStore, readStore, eventStoreKind: this.eventStore.kind };
  }
}
