import { Inject, Injectable } from '@nestjs/common';
import { Pool, QueryResultRow } from 'pg';
import { Projection, qualify, tableNames } from '../../projections/projection';
import { StoreUnavailableError } from '../event-store/event-store';
import { mapPgError } from '../event-store/postgres-errors';
import { PG_POOL } from '../http/idempotency.interceptor';
import { ProblemException } from '../http/problem';

/** A read-model answer and how far the models it came from had projected (`X-Read-Position`). */
export interface Read<T> {
  value: T;
  position: string;
}

/**
 * Where each model's live tables are, and the checkpoint they had reached, read in one statement
 * just before the data. The data is at least as new as `position`; a swap after this lookup leaves
 * the old schema in place for a grace period, so the statement still finds it.
 */
export class ReadSnapshot {
  constructor(
    private readonly pool: Pool,
    private readonly schemas: ReadonlyMap<string, string>,
    readonly position: string,
  ) {}

  /** Runs a statement whose `{table}` placeholders name the projection's live tables. */
  async query<R extends QueryResultRow>(projection: Projection, text: string, params: unknown[] = []): Promise<R[]> {
    const schema = this.schemas.get(projection.name);
    if (schema === undefined) throw new Error(`snapshot does not cover ${projection.name}`);
    const { rows } = await this.pool.query<R>(qualify(text, schema, tableNames(projection)), params).catch((error) => mapPgError(error, 'readStore'));
    return rows;
  }

  /** A 404 that still says how far the models were: the thing may just not be projected yet. */
  notFound(type: string, detail: string): ProblemException {
    return ProblemException.of(404, type, detail, {}, { 'x-read-position': this.position });
  }
}

@Injectable()
export class ReadModels {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  async snapshot(...projections: Projection[]): Promise<ReadSnapshot> {
    const names = projections.map((p) => p.name);
    const { rows } = await this.pool
      .query<{ name: string; schema_name: string; position: string | null; version: number }>(
        'SELECT name, schema_name, position::text, version FROM projection_status WHERE name = ANY($1)',
        [names],
      )
      .catch((error) => mapPgError(error, 'readStore'));
    if (rows.length !== names.length) throw new StoreUnavailableError('readStore', new Error('read models are not initialised yet'));
    for (const row of rows) {
      const oldest = projections.find((p) => p.name === row.name)?.readableFrom;
      if (oldest !== undefined && row.version < oldest)
        throw new StoreUnavailableError(
          'readStore',
          new Error(`read model ${row.name} is being rebuilt to version ${oldest} or later`),
          `The ${row.name} read model is being rebuilt in a new shape after an upgrade; try again shortly.`,
        );
    }
    let position: bigint | null = null;
    for (const row of rows) {
      const p = BigInt(row.position ?? '0');
      if (position === null || p < position) position = p;
    }
    return new ReadSnapshot(this.pool, new Map(rows.map((r) => [r.name, r.schema_name])), String(position ?? 0n));
  }
}
