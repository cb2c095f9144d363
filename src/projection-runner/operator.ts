import { randomUUID } from 'node:crypto';
import { Runtime } from '../app/runtime';
import { WrongExpectedVersionError } from '../event-store/event-store';
import { Actor } from '../newsroom/actor';
import { sealEvents } from '../newsroom/command-executor';
import { PROJECTIONS_CHANNEL, ProjectionFailure, inTransaction, loadStatus } from './projection-status';

export class OperatorError extends Error {}

/** The stream where operators' interventions on a projection are recorded (and so reach the audit trail). */
export const operationsStream = (projection: string) => `projection-${projection}`;

/** Wakes the projection's worker, wherever it runs, to retry its failed batch now instead of after its back-off. */
export async function requestRetry(runtime: Runtime, name: string): Promise<ProjectionFailure | null> {
  const row = await loadStatus(runtime.pool, name);
  await runtime.pool.query('SELECT pg_notify($1, $2)', [PROJECTIONS_CHANNEL, `retry:${name}`]);
  return row.error;
}

/**
 * Passes the live tables of one projection over the event at `position`, which must be the one it
 * is failing on. The skip is recorded first as a `ProjectionEventSkipped` event (actor, reason, the
 * event skipped), so the audit trail has it; then, in one transaction under the status row's lock
 * (the worker's batches take the same lock), the position joins the projection's skip list (kept
 * for rebuilds too) and the checkpoint moves past it.
 */
export async function skipEvent(runtime: Runtime, name: string, position: string, reason: string, actor: Actor) {
  if (!/^\d+$/.test(position)) throw new OperatorError('--position takes the decimal position shown by `copydesk projections status`');
  if (reason.trim().length === 0 || reason.length > 2000) throw new OperatorError('--reason takes 1 to 2000 characters');
  const status = await loadStatus(runtime.pool, name);
  const failure = status.error;
  if (!failure || failure.position !== position)
    throw new OperatorError(`${name} is not failing at ${position}${failure ? ` (it is failing at ${failure.position})` : ' (it is not failing)'}; nothing skipped`);

  const commandId = randomUUID();
  const context = { actor, commandId, correlationId: commandId, causationId: commandId, now: new Date().toISOString() };
  const data = { projection: name, position, eventId: failure.eventId, eventType: failure.eventType, streamId: failure.streamId, error: failure.message, reason };
  const stream = operationsStream(name);
  for (let attempt = 0; ; attempt++) {
    const existing = await runtime.eventStore.readStream(stream);
    const last = existing.length ? existing[existing.length - 1] : null;
    try {
      await runtime.eventStore.appendToStream(stream, sealEvents(stream, last, [{ type: 'ProjectionEventSkipped', data }], context, reason), {
        expectedRevision: last ? last.revision : 'no_stream',
      });
      break;
    } catch (error) {
      if (!(error instanceof WrongExpectedVersionError) || attempt >= 5) throw error;
    }
  }

  await inTransaction(runtime.pool, async (client) => {
    const row = await loadStatus(client, name, true);
    if (row.error?.position !== position) {
      throw new OperatorError(`${name} moved on while skipping (now ${row.error ? `failing at ${row.error.position}` : 'running'}); the checkpoint was left alone`);
    }
    await client.query(
      `INSERT INTO projection_skips (name, position, event_id, event_type, stream_id, reason, skipped_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
      [name, position, failure.eventId, failure.eventType, failure.streamId, reason, actor.id],
    );
    await client.query(`UPDATE projection_status SET position = $2, error = NULL, updated_at = now() WHERE name = $1`, [name, position]);
    await client.query('SELECT pg_notify($1, $2)', [PROJECTIONS_CHANNEL, `retry:${name}`]);
  });
  return data;
}
