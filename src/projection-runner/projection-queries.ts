import { Pool } from 'pg';
import { Projection } from '../../projections/projection';
import { EventStore } from '../event-store/event-store';
import { countEvents } from './event-count';
import { LOCK_NAMESPACE, PROJECTIONS_CHANNEL, ProjectionFailure, StatusRow, loadStatuses, lockKey } from './projection-status';

/*
 * What the read side asks of projections, with or without a runner in this process (the runner
 * itself, the CLI, other processes): positions, statuses, rebuild requests.
 */

export type ProjectionState = 'running' | 'rebuilding' | 'failed' | 'stopped';

/** What `GET /admin/projections` and `copydesk projections status` show for a projection. */
export interface ProjectionStatus {
  name: string;
  version: number;
  /** The live tables' checkpoint; null before the first event. */
  position: string | null;
  /** Events in the log after the checkpoint. */
  lag: number;
  status: ProjectionState;
  error: ProjectionFailure | null;
  rebuild: { done: number; total: number | null; startedAt: string | null; requestedAt: string | null } | null;
}

export async function readPosition(pool: Pool, names: readonly string[]): Promise<string> {
  const { rows } = await pool.query<{ position: string }>(
    `SELECT coalesce(min(coalesce(position, 0)), 0)::text AS position FROM projection_status WHERE name = ANY($1)`,
    [names],
  );
  return rows[0].position;
}

export class UnknownProjectionError extends Error {
  constructor(readonly projection: string) {
    super(`No projection named ${projection}.`);
    this.name = 'UnknownProjectionError';
  }
}

export async function requestRebuild(pool: Pool, name: string): Promise<Date> {
  const { rows } = await pool.query<{ requested: Date }>(
    `WITH r AS (UPDATE projection_status SET rebuild_requested_at = clock_timestamp(), updated_at = now() WHERE name = $1 RETURNING rebuild_requested_at)
     SELECT rebuild_requested_at AS requested, pg_notify($2, $3) FROM r`,
    [name, PROJECTIONS_CHANNEL, `rebuild:${name}`],
  );
  if (rows.length === 0) throw new UnknownProjectionError(name);
  return rows[0].requested;
}

/** Names of the projections whose advisory lock some session holds on this database. */
async function lockedProjections(pool: Pool): Promise<Set<number>> {
  const { rows } = await pool.query<{ objid: string }>(
    `SELECT objid::text FROM pg_locks
     WHERE locktype = 'advisory' AND granted AND objsubid = 2 AND classid = $1::bigint::oid
       AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    [LOCK_NAMESPACE],
  );
  return new Set(rows.map((r) => Number(r.objid)));
}

export function stateOf(row: StatusRow, projection: Projection, active: boolean): ProjectionState {
  if (row.error || row.build_error) return 'failed';
  if (!active) return 'stopped';
  if (row.build_schema !== null || row.rebuild_requested_at !== null || row.version !== projection.version) return 'rebuilding';
  return 'running';
}

export async function projectionStatuses(store: EventStore, pool: Pool, projections: readonly Projection[]): Promise<ProjectionStatus[]> {
  const [rows, locked, head] = await Promise.all([loadStatuses(pool, projections.map((p) => p.name)), lockedProjections(pool), store.headPosition()]);
  const byName = new Map(rows.map((r) => [r.name, r]));
  const statuses: ProjectionStatus[] = [];
  for (const projection of projections) {
    const row = byName.get(projection.name);
    if (!row) {
      statuses.push({ name: projection.name, version: projection.version, position: null, lag: await countEvents(store, pool, null, head), status: 'stopped', error: null, rebuild: null });
      continue;
    }
    const building = row.build_schema !== null || row.rebuild_requested_at !== null;
    statuses.push({
      name: row.name,
      version: row.version,
      position: row.position,
      lag: await countEvents(store, pool, row.position, head),
      status: stateOf(row, projection, locked.has(lockKey(row.name))),
      error: row.error ?? row.build_error,
      rebuild: building
        ? {
            done: Number(row.build_done),
            total: row.build_total === null ? null : Number(row.build_total),
            startedAt: row.build_started_at?.toISOString() ?? null,
            requestedAt: row.rebuild_requested_at?.toISOString() ?? null,
          }
        : null,
    });
  }
  return statuses;
}

