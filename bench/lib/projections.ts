import { spawn } from 'node:child_process';
import { PROJECTIONS } from '../../projections';
import { comparePositions } from '../../src/event-store/event-store';
import { projectionStatuses, readPosition } from '../../src/projection-runner/projection-runner';
import { Cluster } from './cluster';
import { childEnv } from './env';
import { MAIN_JS } from './paths';
import { cpuMeter } from './cpu';
import { watchProcess } from './rss';

const NAMES = PROJECTIONS.map((p) => p.name);

/** Waits until every projection has applied the head of the log, reporting now and then how far they are. */
export async function waitCaughtUp(cluster: Cluster, progress?: (line: string) => void, timeoutMs = 3_600_000): Promise<void> {
  const started = Date.now();
  let reported = started;
  for (;;) {
    const head = await cluster.runtime.eventStore.headPosition();
    const position = await readPosition(cluster.runtime.pool, NAMES);
    if (head === null || comparePositions(position, head) >= 0) return;
    if (Date.now() - started > timeoutMs) throw new Error(`projections still at ${position}, head ${head}, after ${timeoutMs} ms`);
    if (progress && Date.now() - reported > 60_000) {
      reported = Date.now();
      const statuses = await projectionStatuses(cluster.runtime.eventStore, cluster.runtime.pool, PROJECTIONS);
      progress(`catching up: ${statuses.map((s) => `${s.name} lag ${s.lag}`).join(', ')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** The live schema of the audit projection (one row per event). */
export async function auditTable(cluster: Cluster): Promise<string> {
  const { rows } = await cluster.runtime.pool.query<{ schema_name: string }>(`SELECT schema_name FROM projection_status WHERE name = 'audit'`);
  return `"${rows[0].schema_name}"."entries"`;
}

export interface RebuildRun {
  events: number;
  /** From the first build schema created to the last swap, as PostgreSQL's clock saw them (from the start of the command when the build was too quick to be seen). */
  rebuildMs: number;
  /** When each projection was swapped in, from the start of the build. */
  perProjectionMs: Record<string, number>;
  /** The whole command, start-up included. */
  wallMs: number;
  peakRssMiB: number;
  /** CPU time of the rebuild process and of PostgreSQL meanwhile: with the wall time, what bounds it. */
  rebuildCpuMs: number;
  postgresCpuMs: number;
}

/**
 * `copydesk projections rebuild` (every projection) in a child process of its own, with no server
 * running, so that it does the rebuild itself and its peak RSS is the rebuild's own.
 */
export async function runRebuild(cluster: Cluster, options: { eventStore?: string; nodeArgs?: string[] } = {}): Promise<RebuildRun> {
  const pool = cluster.runtime.pool;
  const started = Date.now();
  const postgres = cpuMeter(cluster.dataDir);
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), MAIN_JS, 'projections', 'rebuild'], {
    env: childEnv(cluster.dataDir, {}, options.eventStore),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-5000)));
  const watched = watchProcess(child.pid!);
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  // The swap clears build_started_at, so the earliest one is watched while the build runs.
  let firstBuild: Date | null = null;
  const watch = setInterval(() => {
    void pool
      .query<{ at: Date | null }>('SELECT min(build_started_at) AS at FROM projection_status WHERE name = ANY($1)', [NAMES])
      .then(({ rows: [row] }) => {
        if (row.at && (firstBuild === null || row.at < firstBuild)) firstBuild = row.at;
      })
      .catch(() => undefined);
  }, 100);
  const code = await exited;
  clearInterval(watch);
  const wallMs = Date.now() - started;
  const { peakRssMiB, cpuMs } = watched.stop();
  const postgresCpuMs = postgres.stop().postgresMs;
  if (code !== 0) throw new Error(`projections rebuild exited with ${code}:\n${stderr}`);
  const { rows } = await pool.query<{ ms: number }>(
    `SELECT extract(epoch FROM max(rebuilt_at) - $1::timestamptz) * 1000 AS ms FROM projection_status WHERE name = ANY($2)`,
    [firstBuild ?? new Date(started), NAMES],
  );
  const { rows: each } = await pool.query<{ name: string; ms: number }>(
    `SELECT name, extract(epoch FROM rebuilt_at - $1::timestamptz) * 1000 AS ms FROM projection_status WHERE name = ANY($2) ORDER BY name`,
    [firstBuild ?? new Date(started), NAMES],
  );
  const { rows: counted } = await pool.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${await auditTable(cluster)}`);
  return {
    events: Number(counted[0].n),
    rebuildMs: Number(rows[0].ms),
    perProjectionMs: Object.fromEntries(each.map((r) => [r.name, Math.round(Number(r.ms))])),
    wallMs,
    peakRssMiB,
    rebuildCpuMs: cpuMs,
    postgresCpuMs,
  };
}
