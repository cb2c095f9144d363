import { cpus, loadavg, totalmem } from 'node:os';
import { Pool } from 'pg';

export interface Machine {
  cores: number;
  cpu: string;
  memoryGiB: number;
  node: string;
  postgres: string;
  settings: Record<string, string>;
  /** 1, 5 and 15 minute load averages when the run started: the neighbours' share of the cores. */
  loadAverage: number[];
}

/** The machine and the PostgreSQL settings that bound the figures. */
export async function describeMachine(pool: Pool): Promise<Machine> {
  const { rows } = await pool.query<{ version: string }>('SELECT version()');
  const settings: Record<string, string> = {};
  for (const name of ['synchronous_commit', 'fsync', 'wal_sync_method', 'shared_buffers', 'max_connections']) {
    const { rows: [row] } = await pool.query<{ setting: string }>(`SELECT current_setting($1) AS setting`, [name]);
    settings[name] = row.setting;
  }
  return {
    cores: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Number((totalmem() / 2 ** 30).toFixed(1)),
    node: process.version,
    postgres: rows[0].version,
    settings,
    loadAverage: loadavg().map((n) => Number(n.toFixed(2))),
  };
}
