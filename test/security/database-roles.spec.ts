import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { Client, Pool } from 'pg';
import { Runtime, startRuntime } from '../../src/app/runtime';
import { readConfig } from '../../src/config/configuration';
import { EventStore } from '../../src/event-store/event-store';
import { APP_PASSWORD_FILE, APP_ROLE, EmbeddedPostgresHandle, freePort, reachableBinaries, startEmbeddedPostgres, SUPERUSER_PASSWORD_FILE } from '../../src/read-store/embedded-postgres';
import { isRoot, postgresOsUser } from '../../src/read-store/embedded/os-user';
import { startTestApp, TestApp, TEST_SECRET } from '../support/app';
import { removeDataDir } from '../support/data-dir';
import { loginAs } from '../support/login-as';

/** The SQLSTATE a statement fails with (null when it succeeds). */
async function refusal(db: Pool | Client, sql: string): Promise<{ code: string | null; message: string }> {
  try {
    await db.query(sql);
    return { code: null, message: '' };
  } catch (error) {
    return { code: (error as { code?: string }).code ?? '?', message: (error as Error).message };
  }
}

const DENIED = '42501';
const WRONG_PASSWORD = 'refused 28P01';

async function append(store: EventStore): Promise<void> {
  await store.appendToStream(`article-${randomUUID()}`, [{ id: randomUUID(), type: 'Probe', data: {}, metadata: {} }], { expectedRevision: 'no_stream' });
}

/** Each handle's URL logs in, as the application's role. */
async function expectEachLogsInAsTheApplication(handles: readonly { url: string }[]): Promise<void> {
  for (const handle of handles) {
    const client = new Client({ connectionString: handle.url });
    await client.connect();
    expect((await client.query('SELECT current_user AS role')).rows[0].role).toBe(APP_ROLE);
    await client.end();
  }
}

/** `n` starts on `dataDir` at the same moment: the handles of those that came up, the reasons of those that failed. */
async function startTogether(dataDir: string, n: number): Promise<{ handles: EmbeddedPostgresHandle[]; failures: string[] }> {
  const settled = await Promise.allSettled(Array.from({ length: n }, () => startEmbeddedPostgres(dataDir, 'copydesk')));
  return {
    handles: settled.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : [])),
    failures: settled.flatMap((outcome) => (outcome.status === 'rejected' ? [String(outcome.reason)] : [])),
  };
}

/** One of them started PostgreSQL on the one cluster and the others attached to it; each logs in as the application. */
async function expectOneStartedTheOthersAttached(handles: EmbeddedPostgresHandle[]): Promise<void> {
  expect(handles.filter((handle) => !handle.attached)).toHaveLength(1);
  expect(new Set(handles.map((handle) => handle.clusterDir)).size).toBe(1);
  expect(new Set(handles.map((handle) => handle.port)).size).toBe(1);
  await expectEachLogsInAsTheApplication(handles);
}

/** What the owner (and a superuser not passing the triggers by) may not do to the log either. */
async function expectTriggersRefuse(db: Client): Promise<void> {
  for (const sql of ['UPDATE events SET type = type', 'DELETE FROM events', 'TRUNCATE events', 'DELETE FROM event_streams', 'TRUNCATE event_streams CASCADE']) {
    const r = await refusal(db, sql);
    expect([sql, r.code]).toEqual([sql, DENIED]);
    expect(r.message).toMatch(/the event log is append-only/);
  }
  for (const sql of ['UPDATE event_streams SET revision = revision - 1', "UPDATE event_streams SET stream_id = stream_id || '-moved'", 'UPDATE event_streams SET revision = revision']) {
    const r = await refusal(db, sql);
    expect([sql, r.code]).toEqual([sql, DENIED]);
    expect(r.message).toMatch(/revision only moves forward/);
  }
}

describe('the event log is append-only in the database (DATABASE_URL: an application role, migrations as the owner)', () => {
  let t: TestApp;
  let owner: Client;

  beforeAll(async () => {
    t = await startTestApp();
    const draft = await t.http().post('/articles').set('authorization', `Bearer ${t.token(['reporter'])}`).send({ headline: 'Kept', body: 'Body.' });
    expect(draft.status).toBe(201);
    owner = new Client({ connectionString: t.db.url });
    await owner.connect();
  });
  afterAll(async () => {
    await owner?.end();
    await t?.close();
  });

  it('the application connects as a role that is neither a superuser nor the owner of the log', async () => {
    const { rows } = await t.runtime.pool.query(
      `SELECT current_user AS role, rolsuper, rolcreaterole, rolcreatedb, (SELECT tableowner FROM pg_tables WHERE tablename = 'events') AS owner
       FROM pg_roles WHERE rolname = current_user`,
    );
    expect(rows[0]).toMatchObject({ role: new URL(t.db.appUrl).username, rolsuper: false, rolcreaterole: false, rolcreatedb: false });
    expect(rows[0].owner).not.toBe(rows[0].role);
  });

  it('the application role can neither change, delete nor truncate events, nor rewind or delete a stream', async () => {
    for (const sql of ['UPDATE events SET type = type', 'DELETE FROM events', 'TRUNCATE events', 'DELETE FROM event_streams', 'TRUNCATE event_streams']) {
      expect([sql, (await refusal(t.runtime.pool, sql)).code]).toEqual([sql, DENIED]);
    }
    const rewind = await refusal(t.runtime.pool, 'UPDATE event_streams SET revision = revision - 1');
    expect([rewind.code, rewind.message]).toEqual([DENIED, expect.stringMatching(/revision only moves forward/)]);
  });

  it('nor switch the triggers off, drop them, run programs on the server or read its files', async () => {
    for (const sql of [
      'ALTER TABLE events DISABLE TRIGGER events_append_only',
      'ALTER TABLE events DISABLE TRIGGER ALL',
      'DROP TRIGGER events_append_only ON events',
      'DROP FUNCTION copydesk_refuse_event_change() CASCADE',
      'SET session_replication_role = replica',
      "COPY (SELECT 1) TO PROGRAM 'id'",
      "SELECT pg_read_file('/etc/passwd')",
    ]) {
      expect([sql, (await refusal(t.runtime.pool, sql)).code]).toEqual([sql, DENIED]);
    }
  });

  it('the triggers refuse the owner too', async () => {
    await expectTriggersRefuse(owner);
  });

  it('appends still work, through the API and straight into the store', async () => {
    const before = Number((await owner.query('SELECT count(*) AS n FROM events')).rows[0].n);
    const token = `Bearer ${t.token(['reporter'])}`;
    const draft = await t.http().post('/articles').set('authorization', token).send({ headline: 'Appended', body: 'Body.' });
    expect(draft.status).toBe(201);
    expect((await t.http().put(`/articles/${draft.body.id}/headline`).set('authorization', token).send({ headline: 'Appended again' })).status).toBe(200);
    await append(t.runtime.eventStore);
    const any = await t.runtime.eventStore.appendToStream(`article-${draft.body.id}`, [{ id: randomUUID(), type: 'Probe', data: {}, metadata: {} }], { expectedRevision: 'any' });
    expect(any.nextExpectedRevision).toBe(2);
    expect(Number((await owner.query('SELECT count(*) AS n FROM events')).rows[0].n)).toBe(before + 4);
  });
});

describe('the embedded PostgreSQL: random passwords in DATA_DIR, an application role, no well-known login', () => {
  const root = mkdtempSync(join(tmpdir(), 'copydesk-roles-'));
  const dataDir = join(root, 'data');
  let runtime: Runtime;
  let port: number;
  let owner: Client;
  const nobody = isRoot() ? { uid: 65534, gid: 65534 } : undefined;

  beforeAll(async () => {
    runtime = await startRuntime(readConfig({ DATA_DIR: dataDir, AUTH_JWT_SECRET: TEST_SECRET, LOG_LEVEL: 'error' }));
    port = Number(new URL(runtime.databaseUrl).port);
    const password = readFileSync(join(dataDir, SUPERUSER_PASSWORD_FILE), 'utf8').trim();
    owner = new Client({ host: '127.0.0.1', port, user: 'postgres', password, database: 'copydesk' });
    await owner.connect();
  }, 120000);
  afterAll(async () => {
    await owner?.end();
    await runtime?.close();
    removeDataDir(root, dataDir);
  });

  it('keeps DATA_DIR private (0700) and each password in it (0600)', () => {
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    for (const file of [SUPERUSER_PASSWORD_FILE, APP_PASSWORD_FILE]) {
      expect([file, statSync(join(dataDir, file)).mode & 0o777]).toEqual([file, 0o600]);
      expect(readFileSync(join(dataDir, file), 'utf8').trim()).toMatch(/^[A-Za-z0-9_-]{43}$/);
    }
  });

  it('the application connects as copydesk, which is not a superuser and may append but not rewrite', async () => {
    const { rows } = await runtime.pool.query('SELECT current_user AS role, rolsuper FROM pg_roles WHERE rolname = current_user');
    expect(rows[0]).toEqual({ role: APP_ROLE, rolsuper: false });
    await append(runtime.eventStore);
    expect((await refusal(runtime.pool, 'DELETE FROM events')).code).toBe(DENIED);
    expect((await refusal(runtime.pool, "COPY (SELECT 1) TO PROGRAM 'id'")).code).toBe(DENIED);
    await expectTriggersRefuse(owner);
  });

  it('processes attaching to the running cluster at the same moment (a server and CLI commands started together) all come up', async () => {
    // Each attachment makes sure of the application role as the superuser: done side by side, two of those
    // updates of the same catalog row failed with "tuple concurrently updated".
    const handles = await Promise.all(Array.from({ length: 6 }, () => startEmbeddedPostgres(dataDir, 'copydesk')));
    expect(handles.every((handle) => handle.attached)).toBe(true);
    await expectEachLogsInAsTheApplication(handles);
  });

  it('processes starting together on the cluster while it is stopped all come up: one starts it, the others attach', async () => {
    const stoppedDir = join(root, 'stopped');
    const first = await startEmbeddedPostgres(stoppedDir, 'copydesk');
    await first.stop();
    // Each finds no PostgreSQL running and starts one; all but one find the cluster's lock taken.
    const { handles, failures } = await startTogether(stoppedDir, 3);
    try {
      // Before: "PostgreSQL stopped while starting …: FATAL: lock file "postmaster.pid" already exists".
      expect(failures).toEqual([]);
      await expectOneStartedTheOthersAttached(handles);
    } finally {
      for (const handle of handles) await handle.stop();
      removeDataDir(stoppedDir, stoppedDir);
    }
  }, 120000);

  it('processes starting together on a DATA_DIR with no cluster yet all come up: one cluster is made, one starts it, the others attach', async () => {
    // As root from this private directory, the cluster goes elsewhere and DATA_DIR records where: each process chose a place.
    const freshDir = join(root, 'fresh');
    const { handles, failures } = await startTogether(freshDir, 3);
    try {
      // Before: each ran initdb into the same directory, and all but one failed ("directory … exists but is not empty").
      expect(failures).toEqual([]);
      await expectOneStartedTheOthersAttached(handles);
      // No draft is left beside the cluster, nor a cluster made and then abandoned.
      const { clusterDir } = handles[0];
      expect(readdirSync(dirname(clusterDir)).filter((name) => name.startsWith(`${basename(clusterDir)}.`))).toEqual([]);
    } finally {
      for (const handle of handles) await handle.stop();
      removeDataDir(freshDir, freshDir);
    }
  }, 180000);

  it('a first start killed during initdb leaves no half-made cluster, nor a copy of the superuser password outside DATA_DIR: the next start makes a whole one and removes both', async () => {
    const killedRoot = mkdtempSync(join(tmpdir(), 'copydesk-killed-'));
    // Enterable by PostgreSQL's OS user, so that the cluster is made in DATA_DIR itself.
    chmodSync(killedRoot, 0o755);
    const killedDir = join(killedRoot, 'data');
    mkdirSync(killedDir, { mode: 0o755 });
    // In its own process group, so that the kill takes initdb and its bootstrap backend with it (as a power cut would).
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', join(__dirname, '..', 'support', 'embedded-pg-main.ts'), killedDir, String(await freePort())], {
      stdio: 'ignore',
      detached: true,
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      const begun = () => readdirSync(killedDir).find((name) => name.startsWith('postgres') && existsSync(join(killedDir, name, 'PG_VERSION')));
      for (const deadline = Date.now() + 60_000; !begun(); ) {
        if (Date.now() > deadline) throw new Error('initdb did not begin within 60 s');
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      process.kill(-child.pid!, 'SIGKILL');
      await exited;
      // The premise: initdb was killed before it made the last database, postgres (oid 5), with the file it
      // read the superuser's password from still there (beside the draft, not in /tmp, where it stayed for good).
      expect(existsSync(join(killedDir, begun()!, 'base', '5'))).toBe(false);
      expect(readdirSync(killedDir).filter((name) => name.endsWith('.pw'))).toHaveLength(1);
      // Before, the next start took the half-made DATA_DIR/postgres for a cluster and PostgreSQL would not start on it.
      const handle = await startEmbeddedPostgres(killedDir, 'copydesk');
      try {
        expect(handle.attached).toBe(false);
        expect(handle.clusterDir).toBe(join(killedDir, 'postgres'));
        await expectEachLogsInAsTheApplication([handle]);
        expect(readdirSync(killedDir).filter((name) => name.startsWith('postgres.'))).toEqual(['postgres.log']);
      } finally {
        await handle.stop();
      }
    } finally {
      if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
      rmSync(killedRoot, { recursive: true, force: true });
    }
  }, 180000);

  it.each([
    ['files but no cluster', 'notes.txt', 'holds files but no PostgreSQL cluster; move them away'],
    // What a first start of an older copydesk, killed during initdb, left: initdb writes PG_VERSION first.
    ['a half-made cluster', 'PG_VERSION', 'is incomplete (no global/pg_control, no postgresql.conf, no pg_hba.conf), and PostgreSQL cannot start on it: if it never held data'],
  ])('a DATA_DIR/postgres holding %s is refused in one sentence naming it, and left as it was', async (_what, file, sentence) => {
    const strayRoot = mkdtempSync(join(tmpdir(), 'copydesk-stray-'));
    chmodSync(strayRoot, 0o755);
    const strayDir = join(strayRoot, 'data');
    mkdirSync(join(strayDir, 'postgres'), { recursive: true, mode: 0o755 });
    writeFileSync(join(strayDir, 'postgres', file), '17\n');
    // Owned by PostgreSQL's OS user, as a cluster it made would be.
    const runAs = isRoot() ? postgresOsUser() : null;
    if (runAs) chownSync(join(strayDir, 'postgres'), runAs.uid, runAs.gid);
    try {
      await expect(startEmbeddedPostgres(strayDir, 'copydesk')).rejects.toThrow(`${join(strayDir, 'postgres')} ${sentence}`);
      expect(readdirSync(join(strayDir, 'postgres'))).toEqual([file]);
      expect(readdirSync(strayDir).filter((name) => name.includes('.initdb-'))).toEqual([]);
    } finally {
      rmSync(strayRoot, { recursive: true, force: true });
    }
  }, 60000);

  it('a start held up by a process stopped while it holds the roles lock fails after the wait, naming that process', async () => {
    const password = readFileSync(join(dataDir, SUPERUSER_PASSWORD_FILE), 'utf8').trim();
    // What a copydesk process stopped (SIGSTOP, a debugger) during its role changes leaves: the lock held by its login.
    const stopped = new Client({ host: '127.0.0.1', port, user: 'postgres', password, database: 'postgres', application_name: 'copydesk process 4242' });
    await stopped.connect();
    try {
      await stopped.query(`SELECT pg_advisory_lock(hashtext('copydesk:embedded-roles'))`);
      const started = Date.now();
      const outcome = await startEmbeddedPostgres(dataDir, 'copydesk', { rolesLockWaitMs: 2000 }).then(
        () => 'started',
        (error: Error) => error.message,
      );
      expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
      expect(outcome).toMatch(/^copydesk process 4242 has been setting up the embedded PostgreSQL of \S+ for over 2 s, which takes milliseconds; it may be stopped .*resume or end it/);
    } finally {
      await stopped.end();
    }
    // Once that process ends, starts go on as before.
    expect((await startEmbeddedPostgres(dataDir, 'copydesk', { rolesLockWaitMs: 1500 })).attached).toBe(true);
  }, 60000);

  it('the old login postgres/postgres fails, also from another OS user, while the password in DATA_DIR works', async () => {
    const password = readFileSync(join(dataDir, SUPERUSER_PASSWORD_FILE), 'utf8').trim();
    const old = await loginAs(port, 'postgres', 'postgres', nobody);
    expect(old.outcome).toBe(WRONG_PASSWORD);
    if (nobody) expect(old.uid).toBe(65534);
    expect((await loginAs(port, 'postgres', password, nobody)).outcome).toBe('ok');
    expect((await loginAs(port, APP_ROLE, 'postgres', nobody)).outcome).toBe(WRONG_PASSWORD);
  });
});

/** A cluster as an older copydesk made it: superuser password "postgres", no password file. */
function makeLegacyCluster(): { root: string; dataDir: string; cluster: string } {
  const root = mkdtempSync(join(tmpdir(), 'copydesk-legacy-'));
  // As the older copydesk required when run as root: a DATA_DIR the postgres user may enter.
  chmodSync(root, 0o755);
  const dataDir = join(root, 'data');
  const cluster = join(dataDir, 'postgres');
  mkdirSync(cluster, { recursive: true, mode: 0o700 });
  chmodSync(dataDir, 0o755);
  const runAs = isRoot() ? postgresOsUser() : null;
  if (runAs) chownSync(cluster, runAs.uid, runAs.gid);
  // What the embedded-postgres package's initialise() ran for the older copydesk.
  const pwfile = join(root, 'pw');
  writeFileSync(pwfile, 'postgres\n', { mode: 0o644 });
  const made = spawnSync(reachableBinaries(runAs, () => undefined).initdb, [`--pgdata=${cluster}`, '--auth=password', '--username=postgres', `--pwfile=${pwfile}`], {
    ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}),
    encoding: 'utf8',
  });
  expect(made.status).toBe(0);
  rmSync(pwfile);
  return { root, dataDir, cluster };
}

describe('a cluster made by an older copydesk (superuser password "postgres", no password file)', () => {
  it('is given a random superuser password at its next start, kept in DATA_DIR, and the old one stops working', async () => {
    const { root, dataDir, cluster } = makeLegacyCluster();
    const notices: string[] = [];
    const handle = await startEmbeddedPostgres(dataDir, 'copydesk', { notice: (line) => notices.push(line) });
    try {
      const file = join(dataDir, SUPERUSER_PASSWORD_FILE);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const password = readFileSync(file, 'utf8').trim();
      expect(notices).toEqual([`copydesk: the embedded PostgreSQL's superuser had the password "postgres"; it now has a random one, kept in ${file}`]);
      expect(notices.join('\n')).not.toContain(password);
      expect((await loginAs(handle.port, 'postgres', 'postgres')).outcome).toBe(WRONG_PASSWORD);
      expect((await loginAs(handle.port, 'postgres', password)).outcome).toBe('ok');
      const app = new Client({ connectionString: handle.url });
      await app.connect();
      expect((await app.query('SELECT current_user AS role')).rows[0].role).toBe(APP_ROLE);
      await app.end();
      expect(readFileSync(join(cluster, 'pg_hba.conf'), 'utf8')).not.toMatch(/^\s*local\b/m);
    } finally {
      await handle.stop();
    }
    const again = await startEmbeddedPostgres(dataDir, 'copydesk', { notice: (line) => notices.push(line) });
    await again.stop();
    expect(notices).toHaveLength(1);
    removeDataDir(root, dataDir);
  }, 120000);

  it('processes attaching at the same moment to such a cluster, running, all come up; one of them changes the password', async () => {
    const { root, dataDir } = makeLegacyCluster();
    const first = await startEmbeddedPostgres(dataDir, 'copydesk', { notice: () => undefined });
    try {
      // Put back as the older copydesk left it, still running: password "postgres", no password file.
      const file = join(dataDir, SUPERUSER_PASSWORD_FILE);
      const owner = new Client({ host: '127.0.0.1', port: first.port, user: 'postgres', password: readFileSync(file, 'utf8').trim(), database: 'postgres' });
      await owner.connect();
      await owner.query(`ALTER ROLE postgres PASSWORD 'postgres'`);
      await owner.end();
      rmSync(file);

      // Each one fails to log in with the new file's password and falls back to "postgres": side by side, the
      // first to change the password left the others' "postgres" login refused, or two changes of the same
      // role collided ("tuple concurrently updated").
      const notices: string[] = [];
      const handles = await Promise.all(Array.from({ length: 6 }, () => startEmbeddedPostgres(dataDir, 'copydesk', { notice: (line) => notices.push(line) })));
      expect(handles.every((handle) => handle.attached)).toBe(true);
      expect(notices).toEqual([`copydesk: the embedded PostgreSQL's superuser had the password "postgres"; it now has a random one, kept in ${file}`]);
      const password = readFileSync(file, 'utf8').trim();
      expect((await loginAs(first.port, 'postgres', 'postgres')).outcome).toBe(WRONG_PASSWORD);
      expect((await loginAs(first.port, 'postgres', password)).outcome).toBe('ok');
      await expectEachLogsInAsTheApplication(handles);
    } finally {
      await first.stop();
    }
    removeDataDir(root, dataDir);
  }, 120000);
});

describe('a runtime on the embedded PostgreSQL closed by two callers at once (a signal handler and the code it interrupted)', () => {
  it('closes once: both calls resolve, and its PostgreSQL stops', async () => {
    const root = mkdtempSync(join(tmpdir(), 'copydesk-close-'));
    const dataDir = join(root, 'data');
    const runtime = await startRuntime(readConfig({ DATA_DIR: dataDir, AUTH_JWT_SECRET: TEST_SECRET, LOG_LEVEL: 'error' }));
    const port = Number(new URL(runtime.databaseUrl).port);
    await Promise.all([runtime.close(), runtime.close()]);
    await runtime.close();
    const client = new Client({ connectionString: runtime.databaseUrl, connectionTimeoutMillis: 5000 });
    client.on('error', () => undefined);
    await expect(client.connect()).rejects.toMatchObject({ code: 'ECONNREFUSED', port });
    removeDataDir(root, dataDir);
  }, 120000);
});
