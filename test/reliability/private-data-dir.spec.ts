import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { signToken } from '../../src/auth/jwt';
import { APP_PASSWORD_FILE, startEmbeddedPostgres, SUPERUSER_PASSWORD_FILE } from '../../src/read-store/embedded-postgres';
import { POINTER_FILE } from '../../src/read-store/embedded/cluster-location';
import { isRoot } from '../../src/read-store/embedded/os-user';
import { removeDataDir } from '../support/data-dir';
import { ServerProcess, startServerProcess } from '../support/server-process';

/**
 * `npm start` from a checkout under `mktemp -d` (mode 0700), as root on containers and many VMs:
 * PostgreSQL runs as the `postgres` OS user, which cannot enter that directory.
 */
describe('copydesk serve on the embedded default with DATA_DIR inside a fresh private directory', () => {
  const root = mkdtempSync(join(tmpdir(), 'copydesk-private-'));
  const dataDir = join(root, 'data');
  let server: ServerProcess;

  afterAll(async () => {
    await server?.kill('SIGTERM');
    removeDataDir(root, dataDir);
  });

  it('starts, answers /health and /docs, takes a write, says where its cluster lives, and prints no secret', async () => {
    expect(statSync(root).mode & 0o777).toBe(0o700);
    // No DATABASE_URL (the suite's own may be set), no AUTH_JWT_SECRET: everything from DATA_DIR.
    server = await startServerProcess({ DATA_DIR: dataDir, DATABASE_URL: '', DATABASE_OWNER_URL: '', AUTH_JWT_SECRET: '', LOG_LEVEL: 'warn' });

    const health = await fetch(`${server.url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', eventStore: 'up', readStore: 'up', eventStoreKind: 'postgres' });

    const secret = readFileSync(join(dataDir, 'jwt-secret'), 'utf8').trim();
    const token = signToken(secret, { id: 'rita', name: 'Rita Reporter', roles: ['reporter'] });
    const draft = await fetch(`${server.url}/articles`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ headline: 'From a private checkout', body: 'Body.' }),
    });
    expect(draft.status).toBe(201);
    const { id, position } = (await draft.json()) as { id: string; position: string };
    const read = await fetch(`${server.url}/articles/${id}`, { headers: { authorization: `Bearer ${token}`, 'x-wait-for-position': position } });
    expect(read.status).toBe(200);
    expect(await read.json()).toMatchObject({ headline: 'From a private checkout' });

    // The Swagger UI and its assets, served by @fastify/static (content-disposition pinned for Node 20).
    const docs = await fetch(`${server.url}/docs`);
    expect([docs.status, docs.headers.get('content-type')]).toEqual([200, expect.stringContaining('text/html')]);
    const css = await fetch(`${server.url}/docs/swagger-ui.css`);
    expect(css.status).toBe(200);

    for (const file of [SUPERUSER_PASSWORD_FILE, APP_PASSWORD_FILE, 'jwt-secret']) expect([file, statSync(join(dataDir, file)).mode & 0o777]).toEqual([file, 0o600]);
    const output = server.output();
    expect(output).toMatch(new RegExp(`copydesk: DATA_DIR ${dataDir}; database: embedded PostgreSQL, cluster \\S+, 127\\.0\\.0\\.1:\\d+; events: the Postgres event log; JWT secret: ${join(dataDir, 'jwt-secret')} \\(new\\)\n`));
    for (const file of [SUPERUSER_PASSWORD_FILE, APP_PASSWORD_FILE, 'jwt-secret']) expect(output).not.toContain(readFileSync(join(dataDir, file), 'utf8').trim());
    if (isRoot()) {
      const cluster = readFileSync(join(dataDir, POINTER_FILE), 'utf8').trim();
      expect(cluster).toMatch(/^\/var\/lib\/copydesk\/clusters\/[0-9a-f]{16}$/);
      expect(output).toContain(`the PostgreSQL cluster of DATA_DIR ${dataDir} lives in ${cluster} (PostgreSQL runs as OS user postgres, which cannot enter ${root} (mode 0700)`);
    }
  }, 120000);

  it('copydesk import and projections status attach to the running server\'s cluster, with the passwords in DATA_DIR', async () => {
    const file = join(root, 'story.txt');
    writeFileSync(file, 'First paragraph.\n\nSecond paragraph.\n');
    const env = { DATA_DIR: dataDir, DATABASE_URL: '', DATABASE_OWNER_URL: '', AUTH_JWT_SECRET: '' };
    const imported = await copydesk(['import', file, '--headline', 'Imported while serving'], env);
    expect(imported.code).toBe(0);
    expect(imported.stderr).toMatch(/database: embedded PostgreSQL, cluster \S+, 127\.0\.0\.1:\d+ \(run by another copydesk process\)/);
    const status = await copydesk(['projections', 'status'], env);
    expect(status.code).toBe(0);
    expect(status.stdout.trim().split('\n').map((line) => line.split(/\s+/)[0])).toEqual(['articles', 'sources', 'audit']);
    const secret = readFileSync(join(dataDir, 'jwt-secret'), 'utf8').trim();
    const token = signToken(secret, { id: 'rita', name: 'Rita Reporter', roles: ['reporter'] });
    const read = await fetch(`${server.url}/articles/${imported.stdout.trim()}`, { headers: { authorization: `Bearer ${token}` } });
    expect(read.status).toBe(200);
  }, 120000);
});

describe('a cluster in DATA_DIR that PostgreSQL\'s OS user can no longer enter', () => {
  const root = mkdtempSync(join(tmpdir(), 'copydesk-closed-'));
  const dataDir = join(root, 'data');
  afterAll(() => removeDataDir(root, dataDir));

  it('stops at once with one sentence naming the directory and the fix (as root; as another user it is its own directory)', async () => {
    chmodSync(root, 0o755);
    mkdirSync(dataDir, { mode: 0o755 });
    const made = await startEmbeddedPostgres(dataDir, 'copydesk', { notice: () => undefined });
    await made.stop();
    expect(made.clusterDir).toBe(join(dataDir, 'postgres'));
    chmodSync(root, 0o700);
    const outcome = await copydesk(['projections', 'status'], { DATA_DIR: dataDir, DATABASE_URL: '', DATABASE_OWNER_URL: '' });
    if (isRoot()) {
      expect(outcome.code).toBe(1);
      expect(outcome.stderr).toBe(
        `copydesk: PostgreSQL runs as OS user postgres, which cannot enter ${root} (mode 0700) on the way to ${join(dataDir, 'postgres')}; give it access (chmod o+x on that directory) or move DATA_DIR somewhere it can enter\n`,
      );
    } else expect(outcome.code).toBe(0);
  }, 120000);
});

/** `copydesk …` in a child process (ts-node, no type check) with `env` over the suite's environment. */
function copydesk(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const main = join(__dirname, '..', '..', 'src', 'cli', 'main.ts');
  return promisify(execFile)(process.execPath, ['-r', 'ts-node/register/transpile-only', main, ...args], { env: { ...process.env, ...env } }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
  );
}
