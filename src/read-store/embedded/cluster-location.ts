import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { EmbeddedPostgresError } from './errors';
import { canAccess, firstClosedDirectory, OsUser } from './os-user';
import { createWhole } from './files';

/**
 * Where copydesk keeps what a `postgres` OS user must reach when `DATA_DIR` is closed to it (copydesk
 * running as root from a private directory): copies of the binaries and the clusters.
 */
export const SYSTEM_DIR = '/var/lib/copydesk';

/** The file in `DATA_DIR` naming a cluster kept outside it. */
export const POINTER_FILE = 'postgres-cluster';

export interface ClusterLocation {
  /** The cluster directory (PostgreSQL's data directory: `PG_VERSION`, `postmaster.pid`, …). */
  dir: string;
  /** False when the cluster has yet to be made by initdb. */
  exists: boolean;
  /** Set when the cluster is not `DATA_DIR/postgres`: why, for the line the operator sees. */
  elsewhere?: string;
}

/** Whether `dir` holds a cluster (initdb writes PG_VERSION first; see assertWholeCluster for the rest). */
export const hasCluster = (dir: string): boolean => existsSync(join(dir, 'PG_VERSION'));

/**
 * A cluster PostgreSQL can start on has its control file and its configuration. Without them it was
 * left half-made (an older copydesk's first start killed during initdb) or has lost files: said in
 * one sentence instead of the error of whichever file is read first.
 */
export function assertWholeCluster(clusterDir: string): void {
  const missing = ['global/pg_control', 'postgresql.conf', 'pg_hba.conf'].filter((file) => !existsSync(join(clusterDir, file)));
  if (missing.length === 0) return;
  throw new EmbeddedPostgresError(
    `the PostgreSQL cluster in ${clusterDir} is incomplete (no ${missing.join(', no ')}), and PostgreSQL cannot start on it: if it never held data (a first start interrupted during initdb), delete ${clusterDir} and start again; otherwise restore it from a backup`,
  );
}

/** The directory of `dataDir`'s cluster, whether or not it exists yet: where the pointer file says, else `DATA_DIR/postgres`. */
export function clusterDirOf(dataDir: string): string {
  const pointer = join(dataDir, POINTER_FILE);
  return existsSync(pointer) ? readFileSync(pointer, 'utf8').trim() : join(dataDir, 'postgres');
}

function modeOf(dir: string): string {
  try {
    return `mode ${(statSync(dir).mode & 0o777).toString(8).padStart(4, '0')}`;
  } catch {
    return 'missing';
  }
}

/** One sentence for a directory `user` cannot enter on the way to `target`. */
export function closedDirectoryError(user: OsUser, target: string, fix: string): EmbeddedPostgresError {
  const closed = firstClosedDirectory(user, target) ?? target;
  return new EmbeddedPostgresError(
    `PostgreSQL runs as OS user ${user.name}, which cannot enter ${closed} (${modeOf(closed)}) on the way to ${target}; ${fix}`,
  );
}

/**
 * Finds the cluster of `dataDir`, or decides where a new one goes: `DATA_DIR/postgres` unless a
 * pointer file names another place, or PostgreSQL's OS user (`runAs`, when copydesk runs as root)
 * cannot enter `DATA_DIR`: then a new cluster goes to `SYSTEM_DIR/clusters/<id>`, owned by that
 * user, mode 0700, and the pointer file records it so that the same `DATA_DIR` finds it again.
 */
export function locateCluster(dataDir: string, runAs: OsUser | null, options: { create: boolean; systemDir?: string }): ClusterLocation {
  const pointer = join(dataDir, POINTER_FILE);
  if (existsSync(pointer)) {
    const dir = readFileSync(pointer, 'utf8').trim();
    if (hasCluster(dir)) return { dir, exists: true, elsewhere: `recorded in ${pointer}` };
    // Recorded for a cluster another process is making at this moment, or whose initdb failed: made there.
    if (options.create && existsSync(dir) && readdirSync(dir).length === 0) return { dir, exists: false, elsewhere: `recorded in ${pointer}` };
    throw new EmbeddedPostgresError(`${pointer} names the cluster ${dir}, which holds none; restore it there, or delete ${pointer} to start an empty cluster`);
  }
  const local = join(dataDir, 'postgres');
  if (hasCluster(local)) {
    if (runAs && !canAccess(runAs, local, 'rwx')) throw closedDirectoryError(runAs, local, 'give it access (chmod o+x on that directory) or move DATA_DIR somewhere it can enter');
    return { dir: local, exists: true };
  }
  if (!options.create)
    throw new EmbeddedPostgresError(
      `DATA_DIR ${dataDir} holds no PostgreSQL cluster and this command only reads one; set DATA_DIR to the server's data directory (or DATABASE_URL to its database)`,
    );
  // Made by makeCluster, which gives it to PostgreSQL's OS user.
  if (!runAs || canAccess(runAs, dataDir, 'x')) return { dir: local, exists: false };
  const systemDir = options.systemDir ?? SYSTEM_DIR;
  const closed = firstClosedDirectory(runAs, dataDir) ?? dataDir;
  const why = `PostgreSQL runs as OS user ${runAs.name}, which cannot enter ${closed} (${modeOf(closed)})`;
  const clusters = join(systemDir, 'clusters');
  mkdirSync(clusters, { recursive: true, mode: 0o711 });
  const dir = join(clusters, randomBytes(8).toString('hex'));
  mkdirSync(dir, { mode: 0o700 });
  chownSync(dir, runAs.uid, runAs.gid);
  if (!canAccess(runAs, dir, 'rwx')) throw closedDirectoryError(runAs, dir, `make ${systemDir} enterable by ${runAs.name} (chmod 755), or run copydesk as an ordinary user`);
  if (createWhole(pointer, `${dir}\n`)) return { dir, exists: false, elsewhere: `${why}; recorded in ${pointer}` };
  // Another process starting on this DATA_DIR at the same moment recorded its place first: both make that one.
  rmdirSync(dir);
  const theirs = readFileSync(pointer, 'utf8').trim();
  return { dir: theirs, exists: hasCluster(theirs), elsewhere: `recorded in ${pointer}` };
}
