import { Injectable, applyDecorators } from '@nestjs/common';
import { Query, QueryBus } from '@nestjs/cqrs';
import { ApiQuery, SchemaObject } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ProblemException } from '../../http/problem';
import { ReadYourWrites } from '../../http/read-your-writes';
import { Read } from '../read-models';

export const WAIT_HEADER = 'x-wait-for-position';
export const READ_POSITION_HEADER = 'x-read-position';

/**
 * The one way a read-model route answers: honour `X-Wait-For-Position` for the models the query
 * reads, run the query on the QueryBus, send `X-Read-Position`.
 */
@Injectable()
export class ReadAnswer {
  constructor(
    private readonly queries: QueryBus,
    private readonly readYourWrites: ReadYourWrites,
  ) {}

  async of<T>(reply: FastifyReply, wait: string | string[] | undefined, projections: readonly string[], query: Query<Read<T>>): Promise<T> {
    await this.readYourWrites.waitFor(wait, projections);
    const { value, position } = await this.queries.execute(query);
    void reply.header(READ_POSITION_HEADER, position);
    return value;
  }
}

/** A non-negative stream revision from the path or the query string; anything else is a 400 naming the field. */
export function parseRevision(value: string | undefined, field: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^\d{1,9}$/.test(value)) throw ProblemException.validation([{ field, message: `${field} must be a non-negative integer revision` }]);
  return Number(value);
}

/** OpenAPI: `limit`, `cursor` and the list's own filters (strings, or of the schema given). */
export function ListQuery(...filters: [name: string, description: string, schema?: SchemaObject][]): MethodDecorator {
  return applyDecorators(
    ApiQuery({ name: 'limit', required: false, description: '1..200, default 50', schema: { type: 'integer', minimum: 1, maximum: 200, default: 50 } }),
    ApiQuery({ name: 'cursor', required: false, description: 'the nextCursor of the previous page', schema: { type: 'string' } }),
    ...filters.map(([name, description, schema = { type: 'string' }]) => ApiQuery({ name, required: false, description, schema })),
  );
}
