import { PROJECTIONS } from '../../projections';
import { Projection } from '../../projections/projection';
import { Runtime } from '../app/runtime';
import { ProjectionRunner, ProjectionStatus, projectionStatuses, requestRebuild } from '../projection-runner/projection-runner';
import { countEvents } from '../projection-runner/event-count';
import { ensureInitialised, loadStatuses } from '../projection-runner/projection-status';
import { RunnerLogger } from '../projection-runner/projection-worker';
import { operationsStream, requestRetry, skipEvent } from '../projection-runner/operator';
import { Actor } from '../newsroom/actor';

interface Output {
  write(text: string): unknown;
  isTTY?: boolean;
}

/** `copydesk projections status`: one line a projection (name, position, lag, status), no server needed. */
export async function projectionsStatus(runtime: Runtime, out: Output = process.stdout): Promise<ProjectionStatus[]> {
  const statuses = await projectionStatuses(runtime.eventStore, runtime.pool, PROJECTIONS);
  const width = Math.max(...statuses.map((s) => s.name.length));
  const positionWidth = Math.max(8, ...statuses.map((s) => (s.position ?? '-').length));
  for (const s of statuses) {
    const failure = s.error ? `  ${s.error.phase} failure at ${s.error.position} (${s.error.eventType}): ${s.error.message}` : '';
    out.write(`${s.name.padEnd(width)}  ${(s.position ?? '-').padStart(positionWidth)}  ${`lag ${s.lag}`.padEnd(10)}  ${s.status}${failure}\n`);
  }
  return statuses;
}

function selectProjections(names: string[]): Projection[] {
  if (names.length === 0) return [...PROJECTIONS];
  return names.map((name) => {
    const projection = PROJECTIONS.find((p) => p.name === name);
    if (!projection) throw new Error(`no projection named ${name}; the projections are ${PROJECTIONS.map((p) => p.name).join(', ')}`);
    return projection;
  });
}

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  if (seconds < 60) return `${Math.ceil(seconds)}s`;
  const m = Math.floor(seconds / 60);
  return m < 60 ? `${m}m${String(Math.ceil(seconds % 60)).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export function progressLine(done: number, total: number | null, elapsedMs: number, width = 30): string {
  const rate = elapsedMs > 0 ? (done * 1000) / elapsedMs : 0;
  const fraction = total ? Math.min(1, done / total) : 0;
  const filled = Math.round(fraction * width);
  const bar = total === null ? '' : `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] `;
  const eta = total === null || rate === 0 ? '' : `  ETA ${duration(Math.max(0, total - done) / rate)}`;
  return `${bar}${done}${total === null ? '' : `/${total}`} events  ${Math.round(rate)} events/s${eta}`;
}

const quiet: RunnerLogger = { log: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * `copydesk projections rebuild [NAME…]`: asks for a rebuild of each projection (all by default) and
 * waits until each is rebuilt and swapped in. When no server runs the projection, this process
 * takes its lock and does the rebuild itself; when a server does, the server rebuilds and this
 * only watches. Progress goes to stderr. Rejects when a rebuild fails on an event.
 */
export async function projectionsRebuild(
  runtime: Runtime,
  names: string[],
  options: { err?: Output; tickMs?: number } = {},
): Promise<void> {
  const err = options.err ?? process.stderr;
  const projections = selectProjections(names);
  const runner = new ProjectionRunner({
    store: runtime.eventStore,
    pool: runtime.pool,
    databaseUrl: runtime.databaseUrl,
    projections,
    standbyPollMs: 500,
    retryBaseMs: 200,
    rebuildBatchSize: runtime.config.rebuildPageEvents,
    logger: quiet,
  });
  await ensureInitialised(runtime.pool, projections);
  // Until a worker has counted the events its build will read (and once it has swapped, when the
  // count is cleared), the whole log as it stands now is the total.
  const logTotal = await countEvents(runtime.eventStore, runtime.pool, null, await runtime.eventStore.headPosition());
  const requested = new Map<string, Date>();
  for (const p of projections) requested.set(p.name, await requestRebuild(runtime.pool, p.name));
  const started = Date.now();
  const totals = new Map<string, number>();
  const tty = err.isTTY === true;
  let lastLine = 0;
  await runner.start();
  try {
    for (;;) {
      const rows = await loadStatuses(runtime.pool, projections.map((p) => p.name));
      // Projections rebuilt together share one pass over the log: progress counts each event once,
      // as far as the slowest of them has come.
      let done = Number.MAX_SAFE_INTEGER;
      let total = 0;
      let finished = 0;
      for (const row of rows) {
        const failure = row.build_error;
        if (failure) throw new Error(`rebuilding ${row.name} failed at position ${failure.position} (${failure.eventType} ${failure.eventId}): ${failure.message}`);
        const complete = row.rebuilt_at !== null && row.rebuilt_at >= requested.get(row.name)! && row.build_schema === null && row.rebuild_requested_at === null;
        if (row.build_total !== null && row.build_schema !== null) totals.set(row.name, Number(row.build_total));
        const rowTotal = totals.get(row.name) ?? logTotal;
        total = Math.max(total, rowTotal);
        if (complete) finished++;
        done = Math.min(done, complete ? rowTotal : row.build_schema !== null ? Math.min(Number(row.build_done), rowTotal) : 0);
      }
      if (finished === projections.length) done = total;
      const line = `rebuilding ${projections.map((p) => p.name).join(', ')}: ${progressLine(Math.min(done, total), total, Date.now() - started)}`;
      if (finished === projections.length) {
        err.write(`${tty ? '\r\x1b[K' : ''}${line}\n`);
        err.write(`rebuilt ${projections.map((p) => p.name).join(', ')} in ${duration((Date.now() - started) / 1000)}\n`);
        return;
      }
      if (tty) err.write(`\r\x1b[K${line}`);
      else if (Date.now() - lastLine >= 2000) {
        err.write(`${line}\n`);
        lastLine = Date.now();
      }
      await new Promise((resolve) => setTimeout(resolve, options.tickMs ?? 200));
    }
  } finally {
    await runner.stop();
  }
}

/**
 * `copydesk projections retry NAME`: retries a failed projection now. When no server runs it, this
 * process takes its lock and retries itself. Resolves with the status once the failed event was
 * applied, or rejects when it failed again (the error is the projection's).
 */
export async function projectionsRetry(runtime: Runtime, name: string, options: { out?: Output; timeoutMs?: number } = {}): Promise<ProjectionStatus> {
  const out = options.out ?? process.stdout;
  const [projection] = selectProjections([name]);
  const runner = new ProjectionRunner({ store: runtime.eventStore, pool: runtime.pool, databaseUrl: runtime.databaseUrl, projections: [projection], standbyPollMs: 500, logger: quiet });
  await ensureInitialised(runtime.pool, [projection]);
  await runner.start();
  try {
    const before = await requestRetry(runtime, name);
    const deadline = Date.now() + (options.timeoutMs ?? 30_000);
    for (;;) {
      const [status] = await projectionStatuses(runtime.eventStore, runtime.pool, [projection]);
      const failedAgain = status.error && (!before || status.error.at > before.at);
      if (failedAgain) throw new Error(`${name} failed again at ${status.error!.position} (${status.error!.eventType}): ${status.error!.message}`);
      if (!status.error && (!before || (status.position !== null && BigInt(status.position) >= BigInt(before.position)))) {
        out.write(`${name}: ${status.status} at ${status.position ?? '-'}, lag ${status.lag}\n`);
        return status;
      }
      if (Date.now() > deadline) throw new Error(`${name} is still failing at ${status.error?.position ?? '?'}; see copydesk projections status`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } finally {
    await runner.stop();
  }
}

/** `copydesk projections skip NAME --position P --reason TEXT`: see {@link skipEvent}. */
export async function projectionsSkip(runtime: Runtime, name: string, position: string, reason: string, actor: Actor, out: Output = process.stdout) {
  selectProjections([name]);
  const skipped = await skipEvent(runtime, name, position, reason, actor);
  out.write(`${name}: skipped ${skipped.eventType} ${skipped.eventId} at ${position} in ${skipped.streamId}; recorded as ProjectionEventSkipped in ${operationsStream(name)}\n`);
  return skipped;
}
