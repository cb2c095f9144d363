import { randomUUID } from 'node:crypto';
import { Pool, QueryResultRow } from 'pg';
import { EventMetadata, ProjectedEvent, Projection, boundSql, qualify, quoteIdent, tableNames } from '../../projections/projection';
import { createTestDatabase } from './database';

/**
 * A projection's tables in a fresh schema, fed directly through its `apply` (one batch and one
 * transaction per `given`), for "given events, then rows" specs.
 */
export interface ModelHarness {
  schema: string;
  given(...events: ProjectedEvent[]): Promise<void>;
  rows<R extends QueryResultRow = Record<string, unknown>>(text: string, params?: unknown[]): Promise<R[]>;
  drop(): Promise<void>;
}

/** A schema holding the projection's tables, as its DDL creates them (with its indexes). */
export async function createProjectionSchema(pool: Pool, projection: Projection, schema: string): Promise<void> {
  await pool.query(`CREATE SCHEMA ${quoteIdent(schema)}`);
  for (const ddl of [...projection.tables, ...(projection.indexes ?? [])]) await pool.query(qualify(ddl, schema, tableNames(projection)));
}

/** A test database of its own holding each projection's tables in the schema named beside it, on a pool of two. */
export async function projectionsDatabase(named: readonly (readonly [Projection, string])[]): Promise<{ pool: Pool; schemas: Map<Projection, string>; drop(): Promise<void> }> {
  const db = await createTestDatabase();
  const pool = new Pool({ connectionString: db.url, max: 2 });
  const schemas = new Map<Projection, string>();
  for (const [projection, schema] of named) {
    await createProjectionSchema(pool, projection, schema);
    schemas.set(projection, schema);
  }
  return {
    pool,
    schemas,
    drop: async () => {
      await pool.end();
      await db.drop();
    },
  };
}

export async function modelHarness(pool: Pool, projection: Projection): Promise<ModelHarness> {
  const schema = `spec_${projection.name}_${randomUUID().replace(/-/g, '').slice(0, 8)}`;
  const tables = tableNames(projection);
  await createProjectionSchema(pool, projection, schema);
  return {
    schema,
    given: async (...events) => {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const sql = boundSql(client, schema, tables);
        await projection.apply(
          events.filter((e) => projection.catchAll || projection.types.has(e.type)),
          sql,
        );
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      } finally {
        client.release();
      }
    },
    rows: async (text, params) => (await pool.query(qualify(text, schema, tables), params)).rows,
    drop: async () => {
      await pool.query(`DROP SCHEMA ${quoteIdent(schema)} CASCADE`);
    },
  };
}

/** Builds events for one stream with increasing revisions and positions, as the log would hand them over. */
export class StreamBuilder {
  private revision = -1;
  private static position = 1000n;

  constructor(
    readonly streamId: string,
    private readonly actor = { id: 'reporter-1', name: 'Rita Reporter', roles: ['reporter'] },
  ) {}

  static article(id: string = randomUUID()): StreamBuilder {
    return new StreamBuilder(`article-${id}`);
  }

  static source(id: string = randomUUID()): StreamBuilder {
    return new StreamBuilder(`source-${id}`);
  }

  get id(): string {
    return this.streamId.slice(this.streamId.indexOf('-') + 1);
  }

  event<D>(type: string, data: D, metadata: Partial<EventMetadata> = {}): ProjectedEvent<D> {
    this.revision += 1;
    StreamBuilder.position += 65536n;
    const occurredAt = new Date(Date.UTC(2024, 4, 1, 9, 0, 0) + Number(StreamBuilder.position / 65536n) * 1000).toISOString();
    return {
      id: randomUUID(),
      streamId: this.streamId,
      revision: this.revision,
      position: String(StreamBuilder.position),
      type,
      data,
      metadata: {
        actor: this.actor,
        commandId: randomUUID(),
        correlationId: 'corr-1',
        causationId: 'cause-1',
        occurredAt,
        schemaVersion: 1,
        ...metadata,
      },
      created: new Date(occurredAt),
    };
  }
}
