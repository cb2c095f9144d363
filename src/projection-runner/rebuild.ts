import { Pool } from 'pg';
import { ProjectedEvent, Projection, quoteIdent } from '../../projections/projection';
import { EventStore } from '../event-store/event-store';
import { PoisonEvent, ProjectionHandlerError, applyIsolated, failureOf, oneAtATimeWarning } from './apply-batch';
import { countEvents } from './event-count';
import { Feed } from './feed';
import type { RunnerLogger } from './projection-worker';
import { toProjectedEvent } from './log-pages';
import { PROJECTIONS_CHANNEL, StatusRow, createBuildSchema, createIndexes, inTransaction, loadStatus, onClient } from './projection-status';

export function needsRebuild(row: StatusRow, projection: Projection): boolean {
  return row.version !== projection.version || row.build_schema !== null || row.rebuild_requested_at !== null;
}

/**
 * A projection that has never applied an event (a fresh server, a new projection) with at least
 * `threshold` events in the log catches up as a rebuild: a bulk load into a fresh schema (COPY,
 * indexes built at the end, each projection in a transaction of its own) and a swap, instead of
 * live batches into indexed tables. Answers whether it asked for one.
 */
export async function askBulkCatchUp(context: RebuildContext, threshold: number): Promise<boolean> {
  const { store, pool, projection } = context;
  const head = await store.headPosition();
  if ((await countEvents(store, pool, null, head, threshold)) < threshold) return false;
  const { rowCount } = await pool.query(
    `UPDATE projection_status SET rebuild_requested_at = clock_timestamp(), updated_at = now()
     WHERE name = $1 AND position IS NULL AND version = $2 AND build_schema IS NULL AND rebuild_requested_at IS NULL`,
    [projection.name, projection.version],
  );
  if (rowCount) context.logger.log(`projection ${projection.name}: catching up from the first event as a bulk load`);
  return (rowCount ?? 0) > 0;
}

export interface RebuildContext {
  projection: Projection;
  store: EventStore;
  pool: Pool;
  feed: Feed;
  /** Events per read of the log in the swap's final catch-up. */
  batchSize: number;
  /** The swap's one-at-a-time warning (see Isolated) goes to `warn`, the rest to `log`. */
  logger: Pick<RunnerLogger, 'log' | 'warn'>;
}

/**
 * Builds the projection from the first event into a new schema while the live tables keep
 * answering (and, when the version is unchanged, keep being fed), then swaps. A build that a
 * crashed runner left behind is resumed from its own checkpoint. Answers whether it swapped;
 * `signal` aborted: stops where it is (the build resumes next time).
 */
export async function rebuild(context: RebuildContext, signal: AbortSignal): Promise<boolean> {
  const { projection, pool } = context;
  const { schema, from } = await prepareBuild(context);
  const reason = await context.feed.follow(projection, from, { signal, buildSchema: schema });
  if (reason !== 'caught-up' || signal.aborted) return false;
  await createIndexes(pool, projection, schema);
  if (signal.aborted) return false;
  return swap(context, schema);
}

/** The build to feed: the one in progress for this version, or a fresh schema (its secondary indexes deferred). */
async function prepareBuild(context: RebuildContext): Promise<{ schema: string; from: string | null }> {
  const { projection, pool, store } = context;
  const { name } = projection;
  const row = await loadStatus(pool, name);
  if (row.build_schema !== null && row.build_version === projection.version) {
    if (row.rebuild_requested_at !== null) await pool.query('UPDATE projection_status SET rebuild_requested_at = NULL WHERE name = $1 AND build_schema = $2', [name, row.build_schema]);
    return { schema: row.build_schema, from: row.build_position };
  }
  const head = await store.headPosition();
  const total = await countEvents(store, pool, null, head);
  const schema = await inTransaction(pool, async (client) => {
    const current = await loadStatus(client, name, true);
    const created = await createBuildSchema(client, projection, { deferIndexes: true });
    await client.query(
      `UPDATE projection_status SET build_schema = $2, build_version = $3, build_position = NULL, build_target = $4, build_done = 0,
              build_total = $5, build_started_at = clock_timestamp(), build_error = NULL, rebuild_requested_at = NULL, updated_at = now()
       WHERE name = $1`,
      [name, created, projection.version, head, total],
    );
    // A build nobody ever read from (left by an older version): no grace needed.
    if (current.build_schema !== null) await client.query(`DROP SCHEMA IF EXISTS ${quoteIdent(current.build_schema)} CASCADE`);
    return created;
  });
  context.logger.log(`projection ${name}: rebuilding from the first event into ${schema} (${total} events)`);
  return { schema, from: null };
}

/**
 * In one transaction, with the checkpoint row locked (so no live batch runs meanwhile): apply what
 * arrived since the build's checkpoint, point the projection at the new schema with the build's
 * checkpoint, and retire the old schema. A reader sees either the old tables or the new ones.
 * Rejects with a ProjectionHandlerError (recorded as the build's failure) when an event fails.
 */
async function swap(context: RebuildContext, schema: string): Promise<boolean> {
  const { projection, pool, store } = context;
  const { name } = projection;
  /** Swapped, or not (another build took its place), or an event failed (rolled back). */
  const outcome = await onClient(pool, async (client): Promise<'swapped' | 'stale' | { event: ProjectedEvent; poison: PoisonEvent }> => {
    await client.query('BEGIN');
    const row = await loadStatus(client, name, true);
    if (row.build_schema !== schema) {
      await client.query('ROLLBACK');
      return 'stale';
    }
    let position = row.build_position;
    let failure: { event: ProjectedEvent; poison: PoisonEvent } | null = null;
    const { rows: skips } = await client.query<{ position: string }>('SELECT position::text AS position FROM projection_skips WHERE name = $1', [name]);
    const skipped = new Set(skips.map((r) => r.position));
    for (;;) {
      const events = (await store.readAll({ fromPosition: position ?? undefined, maxCount: context.batchSize })).map(toProjectedEvent);
      if (events.length === 0) break;
      const { poison, appliedOneAtATime } = await applyIsolated(client, { projection, schema, bulk: false }, events, skipped);
      if (appliedOneAtATime !== null) context.logger.warn(oneAtATimeWarning(name, appliedOneAtATime));
      if (poison) {
        failure = { event: events[poison.index], poison };
        break;
      }
      position = events[events.length - 1].position;
    }
    if (failure) {
      await client.query('ROLLBACK');
      return failure;
    }
    await client.query(
      `UPDATE projection_status SET schema_name = build_schema, version = build_version, position = $2,
              build_schema = NULL, build_version = NULL, build_position = NULL, build_target = NULL, build_done = 0,
              build_total = NULL, build_started_at = NULL, error = NULL, build_error = NULL, rebuilt_at = clock_timestamp(), updated_at = now()
       WHERE name = $1`,
      [name, position],
    );
    await client.query('INSERT INTO projection_retired_schemas (schema_name) VALUES ($1) ON CONFLICT DO NOTHING', [row.schema_name]);
    await client.query('SELECT pg_notify($1, $2)', [PROJECTIONS_CHANNEL, `progress:${name}`]);
    await client.query('COMMIT');
    return 'swapped';
  });
  if (outcome === 'stale') return false;
  if (outcome !== 'swapped') {
    const recorded = failureOf('rebuild', outcome.event, outcome.poison.error);
    await pool.query('UPDATE projection_status SET build_error = $2, updated_at = now() WHERE name = $1', [name, JSON.stringify(recorded)]);
    throw new ProjectionHandlerError(name, outcome.event, outcome.poison.error);
  }
  context.logger.log(`projection ${name}: rebuilt and swapped in ${schema}`);
  return true;
}
