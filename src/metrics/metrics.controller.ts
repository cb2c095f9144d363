import { Controller, Get, NotFoundException, Res } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Public } from '../auth/auth.guard';
import { Operation } from '../http/openapi/operations';
import { Metrics } from './metrics';

/** `GET /metrics`: Prometheus' text format, no token (API.md, "Operations"). */
@ApiTags('operations')
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: Metrics) {}

  @Get()
  @Public()
  @Operation(
    {
      id: 'metrics',
      summary: 'Prometheus metrics: commands, HTTP requests, appends, projections, webhook deliveries, the process',
      description: 'No token needed. The Prometheus text exposition format 0.0.4. With `METRICS=off` the route answers 404 `not-found`.',
    },
    [],
  )
  @ApiOkResponse({ description: 'Every metric, in the Prometheus text format.', content: { 'text/plain': { schema: { type: 'string' } } } })
  async scrape(@Res({ passthrough: true }) reply: FastifyReply): Promise<string> {
    if (!this.metrics.enabled) throw new NotFoundException();
    const text = await this.metrics.exposition();
    void reply.header('content-type', this.metrics.contentType);
    return text;
  }
}
