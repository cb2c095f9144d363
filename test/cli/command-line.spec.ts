import { execFile } from 'node:child_process';
import { PROJECTIONS } from '../../projections';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import jwt from 'jsonwebtoken';
import { startTestApp, TestApp } from '../support/app';

const MAIN = join(__dirname, '..', '..', 'src', 'cli', 'main.ts');

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** `copydesk …` in a child process, with only the configuration given (none of the suite's own). */
async function copydesk(args: string[], env: Record<string, string> = {}): Promise<Outcome> {
  const { DATABASE_URL, DATABASE_OWNER_URL, AUTH_JWT_SECRET, DATA_DIR, EVENTSTORE_CONNECTION_STRING, ...inherited } = process.env;
  void [DATABASE_URL, DATABASE_OWNER_URL, AUTH_JWT_SECRET, DATA_DIR, EVENTSTORE_CONNECTION_STRING];
  return promisify(execFile)(process.execPath, ['-r', 'ts-node/register/transpile-only', MAIN, ...args], { env: { ...inherited, ...env } }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
  );
}

const SECRET = 'a-jwt-secret-for-the-command-line-spec-0123456789';

describe('the command line says what it uses and creates nothing for a read-only command', () => {
  const root = mkdtempSync(join(tmpdir(), 'copydesk-cli-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('--help on any command prints the usage and exits 0', async () => {
    for (const args of [['token', '--help'], ['projections', 'status', '--help'], ['audit', 'verify', '-h']]) {
      const outcome = await copydesk(args, { DATA_DIR: join(root, 'never') });
      expect([args.join(' '), outcome.code]).toEqual([args.join(' '), 0]);
      expect(outcome.stdout).toMatch(/^Usage: copydesk <command>/);
    }
    expect(existsSync(join(root, 'never'))).toBe(false);
  }, 60000);

  it('token refuses, naming DATA_DIR, where there is no secret, and makes none', async () => {
    const dataDir = join(root, 'elsewhere');
    const outcome = await copydesk(['token', '--sub', 'ed', '--name', 'Ed', '--role', 'editor'], { DATA_DIR: dataDir });
    expect(outcome.code).toBe(1);
    expect(outcome.stdout).toBe('');
    expect(outcome.stderr.trim()).toBe(
      `copydesk: DATA_DIR ${dataDir} holds no jwt-secret and AUTH_JWT_SECRET is unset; run this with the server's DATA_DIR (or its AUTH_JWT_SECRET), so that the server accepts the token`,
    );
    expect(existsSync(dataDir)).toBe(false);
  }, 30000);

  it("token signs with the server's secret in DATA_DIR and says which", async () => {
    const dataDir = join(root, 'server');
    mkdirSync(dataDir);
    writeFileSync(join(dataDir, 'jwt-secret'), `${SECRET}\n`, { mode: 0o600 });
    const outcome = await copydesk(['token', '--sub', 'ed', '--name', 'Ed', '--role', 'editor'], { DATA_DIR: dataDir });
    expect(outcome.code).toBe(0);
    expect(outcome.stderr).toBe(`copydesk: DATA_DIR ${dataDir}; JWT secret: ${join(dataDir, 'jwt-secret')}\n`);
    expect(jwt.verify(outcome.stdout.trim(), SECRET, { algorithms: ['HS256'] })).toMatchObject({ sub: 'ed' });
    expect(outcome.stderr).not.toContain(SECRET);
  }, 30000);

  it('projections status, retry and audit verify refuse a DATA_DIR without a cluster, and create nothing', async () => {
    for (const args of [['projections', 'status'], ['projections', 'retry', 'articles'], ['audit', 'verify']]) {
      const dataDir = join(root, `empty-${args.join('-')}`);
      const outcome = await copydesk(args, { DATA_DIR: dataDir, AUTH_JWT_SECRET: SECRET });
      expect([args.join(' '), outcome.code]).toEqual([args.join(' '), 1]);
      expect(outcome.stderr.trim()).toBe(
        `copydesk: DATA_DIR ${dataDir} holds no PostgreSQL cluster and this command only reads one; set DATA_DIR to the server's data directory (or DATABASE_URL to its database)`,
      );
      expect(existsSync(dataDir)).toBe(false);
    }
  }, 60000);
});

describe('copydesk audit verify and projections status on a database', () => {
  let t: TestApp;
  let env: Record<string, string>;
  const root = mkdtempSync(join(tmpdir(), 'copydesk-cli-db-'));

  beforeAll(async () => {
    t = await startTestApp();
    const token = `Bearer ${t.token(['reporter'])}`;
    for (const headline of ['One', 'Two']) {
      const draft = await t.http().post('/articles').set('authorization', token).send({ headline, body: 'Body.' });
      await t.http().post(`/articles/${draft.body.id}/topics`).set('authorization', token).send({ topic: 'Ledger' });
    }
    env = { DATABASE_URL: t.db.appUrl, DATABASE_OWNER_URL: t.db.url, DATA_DIR: root, AUTH_JWT_SECRET: SECRET };
  });
  afterAll(async () => {
    await t.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('says which database it uses, without its password', async () => {
    const outcome = await copydesk(['projections', 'status'], env);
    expect(outcome.code).toBe(0);
    const app = new URL(t.db.appUrl);
    const line = outcome.stderr.split('\n').find((l) => l.startsWith('copydesk: DATA_DIR'));
    expect(line).toContain(`copydesk: DATA_DIR ${root}; database: DATABASE_URL postgres://${app.username}`);
    expect(line).toContain(`@${app.host}${app.pathname}`);
    expect(line).toContain('events: the Postgres event log');
    expect(line).toContain(`postgres://${app.username}:***@`);
    expect(outcome.stderr).not.toContain(`:${app.password}@`);
    expect(outcome.stdout.trim().split('\n')).toHaveLength(PROJECTIONS.length);
  }, 60000);

  it('--stream of a stream that does not exist says so and exits 1', async () => {
    const outcome = await copydesk(['audit', 'verify', '--stream', 'article-nope'], env);
    expect(outcome.code).toBe(1);
    expect(outcome.stdout).toBe('');
    expect(outcome.stderr).toContain('copydesk: there is no stream named article-nope\n');
  }, 60000);

  it("every stream: one line a stream with its head hash, then how many streams and events it checked", async () => {
    const outcome = await copydesk(['audit', 'verify'], env);
    expect(outcome.code).toBe(0);
    const events = await t.runtime.eventStore.readAll({ maxCount: 10_000 });
    const heads = new Map<string, { n: number; hash: string }>();
    for (const e of events) heads.set(e.streamId, { n: (heads.get(e.streamId)?.n ?? 0) + 1, hash: e.metadata.hash as string });
    expect(heads.size).toBe(2);
    const lines = outcome.stdout.trim().split('\n');
    expect(lines).toEqual([
      ...[...heads].map(([stream, head]) => `${stream}: ${head.n} events, head ${head.hash}`),
      `checked 2 streams, ${events.length} events: every stream's chain is intact`,
    ]);
  }, 60000);
});
