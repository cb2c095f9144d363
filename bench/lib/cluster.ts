import { mkdirSync, rmSync } from 'node:fs';
import { Client } from 'pg';
import { Runtime, startRuntime } from '../../src/app/runtime';
import { readConfig } from '../../src/config/configuration';
import { APP_ROLE, startEmbeddedPostgres } from '../../src/read-store/embedded-postgres';
import { clusterDirOf } from '../../src/read-store/embedded/cluster-location';
import { onInterrupt } from './cleanup';
import { BENCH_SECRET } from './paths';

export interface Cluster {
  dataDir: string;
  /** This process's runtime on the cluster: pool, event store (the port), migrations applied. */
  runtime: Runtime;
  /** The embedded superuser's login: for baselines and maintenance beyond the application role's rights. */
  ownerUrl: string;
  pgStatStatements: boolean;
  /** Stops the embedded PostgreSQL and, unless kept, deletes the data directory. */
  close(options?: { keep?: boolean }): Promise<void>;
}

/**
 * A fresh embedded PostgreSQL under `dataDir`, started by this process exactly as `copydesk serve`
 * would start it, so that servers and command-line children attach to it and baselines run on the
 * same server. With `pgStatStatements`, the cluster preloads pg_stat_statements (for profiling).
 */
export async function openCluster(dataDir: string, options: { eventStore?: string; pgStatStatements?: boolean } = {}): Promise<Cluster> {
  // As root, the cluster may live outside dataDir (see DATA_DIR/postgres-cluster): removed with it.
  const remove = () => {
    rmSync(clusterDirOf(dataDir), { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  };
  remove();
  mkdirSync(dataDir, { recursive: true });
  if (options.pgStatStatements) {
    const { started: pg, forget } = await stoppedOnInterrupt(startEmbeddedPostgres(dataDir), (handle) => handle.stop());
    try {
      // As the superuser: the application's role may neither change the server's settings nor install the extension.
      const client = new Client({ connectionString: pg.ownerUrl });
      await client.connect();
      await client.query(`ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'`);
      await client.end();
    } finally {
      await pg.stop();
      forget();
    }
  }
  const { started: runtime, forget } = await stoppedOnInterrupt(
    startRuntime(
      readConfig({ DATA_DIR: dataDir, AUTH_JWT_SECRET: BENCH_SECRET, LOG_LEVEL: 'silent', ...(options.eventStore ? { EVENTSTORE_CONNECTION_STRING: options.eventStore } : {}) }),
    ),
    (started) => started.close(),
  );
  // Attaches to the runtime's cluster for the superuser's login (its stop is then a no-op).
  const { ownerUrl } = await startEmbeddedPostgres(dataDir);
  if (options.pgStatStatements) {
    const client = new Client({ connectionString: ownerUrl });
    await client.connect();
    await client.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    await client.query(`GRANT EXECUTE ON FUNCTION pg_stat_statements_reset TO ${APP_ROLE}`);
    await client.end();
  }
  return {
    dataDir,
    runtime,
    ownerUrl,
    pgStatStatements: options.pgStatStatements === true,
    close: async ({ keep = false } = {}) => {
      forget();
      await runtime.close();
      if (!keep) remove();
    },
  };
}

/**
 * What `starting` resolves to, stopped by `stop` if the run is interrupted, even while it is still
 * starting (a Ctrl-C during a cluster's start-up waits for the start, then stops what it started).
 * `forget` takes it off the list once the caller stops it itself.
 */
async function stoppedOnInterrupt<T>(starting: Promise<T>, stop: (started: T) => Promise<void>): Promise<{ started: T; forget: () => void }> {
  const forget = onInterrupt(() => starting.then(stop, () => undefined));
  try {
    return { started: await starting, forget };
  } catch (error) {
    forget();
    throw error;
  }
}

/** The statements on the application's database that took the most time since the last reset (empty without pg_stat_statements). */
export async function topStatements(cluster: Cluster, limit = 8): Promise<{ query: string; calls: number; totalMs: number; meanMs: number }[]> {
  if (!cluster.pgStatStatements) return [];
  const { rows } = await cluster.runtime.pool.query<{ query: string; calls: string; total: number; mean: number }>(
    `SELECT left(regexp_replace(query, '\\s+', ' ', 'g'), 160) AS query, calls::text, total_exec_time AS total, mean_exec_time AS mean
     FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
     ORDER BY total_exec_time DESC LIMIT $1`,
    [limit],
  );
  return rows.map((r) => ({ query: r.query, calls: Number(r.calls), totalMs: Math.round(r.total), meanMs: Number(r.mean.toFixed(3)) }));
}

export async function resetStatements(cluster: Cluster): Promise<void> {
  if (cluster.pgStatStatements) await cluster.runtime.pool.query('SELECT pg_stat_statements_reset()');
}
