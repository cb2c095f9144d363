import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Client } from 'pg';
import { freePort } from '../../src/read-store/embedded-postgres';
import { Cluster } from '../lib/cluster';
import { BENCH_SECRET, ROOT } from '../lib/paths';
import { ServerProcess, superviseServer } from '../lib/server';

/**
 * The Emmett peer (bench/emmett-peer/server.ts) in a child process, on a database of its own in the
 * benchmark's PostgreSQL cluster: the same server, disk and cores as Copydesk.
 */
export async function startPeer(cluster: Cluster, nodeArgs: string[] = []): Promise<ServerProcess> {
  const admin = new Client({ connectionString: cluster.ownerUrl });
  await admin.connect();
  await admin.query('DROP DATABASE IF EXISTS emmett_peer');
  await admin.query('CREATE DATABASE emmett_peer');
  await admin.end();
  const url = new URL(cluster.ownerUrl);
  url.pathname = '/emmett_peer';
  const port = await freePort();
  const env = { ...process.env, DATABASE_URL: url.toString(), PORT: String(port), AUTH_JWT_SECRET: BENCH_SECRET, TS_NODE_TRANSPILE_ONLY: 'true' };
  const child = spawn(process.execPath, [...nodeArgs, '-r', 'ts-node/register/transpile-only', join(ROOT, 'bench', 'emmett-peer', 'server.ts')], { env, cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  return superviseServer(child, port, 'peer listening on', 'the peer');
}
