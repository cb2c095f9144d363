import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { PostgresBinaries } from './binaries';
import { hasCluster } from './cluster-location';
import { EmbeddedPostgresError } from './errors';
import { OsUser } from './os-user';

export const SUPERUSER = 'postgres';

/**
 * PostgreSQL gets a small environment of its own: never the server's (AUTH_JWT_SECRET and the
 * database URLs stay out of reach of anything PostgreSQL runs), and C messages.
 */
function postgresEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin', LC_ALL: 'C' };
  if (process.env.TZ) env.TZ = process.env.TZ;
  return env;
}

/** As the user PostgreSQL runs as, from `/`: the caller's working directory may be closed to that user. */
const asUser = (runAs: OsUser | null) => ({ cwd: '/', ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}) });

/**
 * Makes a cluster in `dir` (empty) with `superuserPassword` for the superuser. initdb reads the password
 * from a file: it is written into the private directory `scratch` (mode 0700, owned by the user
 * PostgreSQL runs as, beside the draft so that a start killed meanwhile leaves it nowhere but there),
 * and removed at once. UTF-8, with PostgreSQL's own builtin C.UTF-8 locale, so that sorting and case
 * mapping do not depend on the host's C library.
 */
async function initdb(binaries: PostgresBinaries, dir: string, scratch: string, runAs: OsUser | null, superuserPassword: string, target: string): Promise<void> {
  mkdirSync(scratch, { mode: 0o700 });
  const pwfile = join(scratch, 'pw');
  try {
    writeFileSync(pwfile, `${superuserPassword}\n`, { mode: 0o600 });
    if (runAs) {
      chownSync(scratch, runAs.uid, runAs.gid);
      chownSync(pwfile, runAs.uid, runAs.gid);
    }
    const args = [
      `--pgdata=${dir}`,
      `--username=${SUPERUSER}`,
      '--auth=scram-sha-256',
      `--pwfile=${pwfile}`,
      '--encoding=UTF8',
      '--locale=C',
      '--locale-provider=builtin',
      '--builtin-locale=C.UTF-8',
    ];
    const { code, output } = await runToEnd(binaries.initdb, args, runAs);
    if (code !== 0) {
      const lines = output.trim().split('\n').filter(Boolean);
      const reason = lines.find((l) => /error:/.test(l)) ?? lines.pop() ?? `exit code ${code}`;
      throw new EmbeddedPostgresError(`initdb could not make a PostgreSQL cluster for ${target}: ${reason}`);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * Makes the cluster `dir` whole or not at all: initdb writes into a draft beside it (with copydesk's
 * pg_hba.conf), which is renamed into place once complete. A process killed during initdb leaves a
 * draft, removed by the next start, never a half-made cluster that later starts would take for one.
 * Of processes making the same cluster at once, the first rename wins and the others use its cluster
 * (they share the superuser's password file). An empty `dir` is replaced; anything else is refused.
 */
export async function makeCluster(binaries: PostgresBinaries, dir: string, runAs: OsUser | null, superuserPassword: string): Promise<void> {
  const made = () => hasCluster(dir);
  const stray = () => new EmbeddedPostgresError(`${dir} holds files but no PostgreSQL cluster; move them away and start again`);
  if (made()) return;
  if (existsSync(dir) && readdirSync(dir).length > 0) throw stray();
  removeDeadDrafts(dir);
  const draft = `${dir}${DRAFT}${process.pid}-${randomBytes(4).toString('hex')}`;
  mkdirSync(draft, { mode: 0o700 });
  try {
    if (runAs) chownSync(draft, runAs.uid, runAs.gid);
    await initdb(binaries, draft, `${draft}.pw`, runAs, superuserPassword, dir);
    writeHbaConf(draft);
    try {
      renameSync(draft, dir);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
      // Another process starting at the same moment made it first.
      if (made()) return;
      throw stray();
    }
  } finally {
    rmSync(draft, { recursive: true, force: true });
  }
}

/** Drafts' names (and their password directories', `.pw` after): the cluster directory's, this, the pid of the process that made it, a random tag. */
const DRAFT = '.initdb-';

/** Drafts (and their password directories) beside `dir` whose process is gone (killed during initdb). */
function removeDeadDrafts(dir: string): void {
  const parent = dirname(dir);
  const prefix = `${basename(dir)}${DRAFT}`;
  for (const name of readdirSync(parent)) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length).split('-')[0]);
    if (!pid || pid === process.pid || alive(pid)) continue;
    try {
      rmSync(join(parent, name), { recursive: true, force: true });
    } catch {
      // Still written by an orphaned initdb (only its parent was killed): a later start removes it.
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function runToEnd(program: string, args: string[], runAs: OsUser | null): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { ...asUser(runAs), env: postgresEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.once('error', (error) => reject(new EmbeddedPostgresError(`cannot run ${program}: ${error.message}`)));
    child.once('close', (code) => resolve({ code, output }));
  });
}

/**
 * Logins over TCP on 127.0.0.1 only, with SCRAM passwords; nothing over a unix socket (none is
 * made). Written at every start, so that a cluster made by an older copydesk (password logins on
 * every interface and on a socket in /tmp) is brought to the same rules.
 */
const PG_HBA = `# Written by copydesk at every start: SCRAM password logins over 127.0.0.1 only.
host all all 127.0.0.1/32 scram-sha-256
`;

/** Returns whether the file changed (a running server must then reload it). */
export function writeHbaConf(dir: string): boolean {
  const file = join(dir, 'pg_hba.conf');
  if (readFileSync(file, 'utf8') === PG_HBA) return false;
  // Rewriting in place keeps the file's owner (the user PostgreSQL runs as).
  writeFileSync(file, PG_HBA);
  return true;
}

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

export interface PostgresProcess {
  child: ChildProcess;
  logFile: string;
  /** Resolves with the exit code (or signal) once the postmaster has exited. */
  exited: Promise<string>;
  /** The log lines written since this start. */
  log(): string;
}

/**
 * Starts the postmaster on `port`, its output appended to `logFile` (which copydesk opens, so that
 * it may live in the private `DATA_DIR`). Its own process group: a Ctrl-C reaches copydesk, which
 * stops it after the application. fsync stays on (acknowledged writes must survive a crash).
 */
export function startPostmaster(binaries: PostgresBinaries, dir: string, port: number, runAs: OsUser | null, logFile: string): PostgresProcess {
  const fd = openSync(logFile, 'a', 0o600);
  const offset = statSync(logFile).size;
  const args = [
    '-D', dir,
    '-p', String(port),
    '-c', 'listen_addresses=127.0.0.1',
    '-c', 'unix_socket_directories=',
    '-c', 'password_encryption=scram-sha-256',
    '-c', 'max_connections=200',
    ...memoryFlags(),
  ];
  let child: ChildProcess;
  try {
    child = spawn(binaries.postgres, args, { ...asUser(runAs), env: postgresEnv(), stdio: ['ignore', fd, fd], detached: true });
  } finally {
    closeSync(fd);
  }
  const exited = new Promise<string>((resolve) => {
    child.once('error', (error) => resolve(`could not be run (${error.message})`));
    child.once('exit', (code, signal) => resolve(signal ? `was killed by ${signal}` : `exited with code ${code}`));
  });
  return { child, logFile, exited, log: () => readFrom(logFile, offset) };
}

function readFrom(file: string, offset: number): string {
  try {
    const fd = openSync(file, 'r');
    try {
      const length = Math.min(64 * 1024, Math.max(0, statSync(file).size - offset));
      const buffer = Buffer.alloc(length);
      readSync(fd, buffer, 0, length, offset);
      return buffer.toString('utf8');
    } finally {
      closeSync(fd);
    }
  } catch {
    return '';
  }
}

/** The line of a PostgreSQL log that says why it stopped (the first FATAL/PANIC), else the last. */
export function reasonIn(log: string): string {
  const lines = log.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.find((l) => /\b(FATAL|PANIC):/.test(l)) ?? lines.pop() ?? 'no output';
}

/** A fast shutdown (SIGINT): open transactions are rolled back, everything committed is kept. */
export async function stopPostmaster(server: PostgresProcess): Promise<void> {
  const { child } = server;
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGINT');
  const timer = setTimeout(() => child.kill('SIGQUIT'), 30_000);
  await server.exited;
  clearTimeout(timer);
}
