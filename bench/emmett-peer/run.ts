import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Client } from 'pg';
import { freePort } from '../../src/read-store/embedded-postgres';
import { onInterrupt } from '../lib/cleanup';
import { Cluster } from '../lib/cluster';
import { BENCH_SECRET, ROOT } from '../lib/paths';
import { ServerProcess } from '../lib/server';

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
  let output = '';
  const collect = (d: Buffer) => (output = (output + d).slice(-20_000));
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the peer did not start in 60 s:\n${output}`)), 60_000);
    child.stderr.on('data', () => {
      if (output.includes('peer listening on')) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the peer exited with ${code} before listening:\n${output}`));
    });
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  };
  const forget = onInterrupt(stop);
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    output: () => output,
    stop: async () => {
      forget();
      await stop();
    },
  };
}
