import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { signToken } from '../../src/auth/jwt';
import { freePort } from '../../src/read-store/embedded-postgres';
import { startTestApp, TEST_SECRET, TestApp } from '../support/app';
import { createTestDatabase, TestDatabase } from '../support/database';
import { EsdbTestServer, startEsdbTestServer } from '../support/esdb-test-server';
import { PgProcess, startPgProcess } from '../support/pg-process';
import { startTcpProxy, TcpProxy } from '../support/tcp-proxy';

/** API.md's bound: with a store unreachable, every request answers 503 within 10 s. */
const PROMISED_MS = 10_000;

const reporter = signToken(TEST_SECRET, { id: 'r-1', name: 'Rita', roles: ['reporter'] });
const admin = signToken(TEST_SECRET, { id: 'admin', name: 'Admin', roles: ['admin'] });

interface Answer {
  status: number;
  headers: Headers;
  body: any;
  ms: number;
}

/** A request that gives up (and fails the spec) long after the promise, rather than hanging the suite. */
async function call(base: string, path: string, init: RequestInit & { token?: string } = {}): Promise<Answer> {
  const started = Date.now();
  const res = await fetch(base + path, {
    ...init,
    headers: { authorization: `Bearer ${init.token ?? reporter}`, 'content-type': 'application/json', ...(init.headers ?? {}) },
    signal: AbortSignal.timeout(3 * PROMISED_MS),
  }).catch((error: Error) => ({ status: 0, headers: new Headers(), json: async () => ({ error: error.message }) }));
  return { status: res.status, headers: res.headers, body: await res.json().catch(() => null), ms: Date.now() - started };
}

const post = (base: string, path: string, body: object, headers: Record<string, string> = {}) => call(base, path, { method: 'POST', body: JSON.stringify(body), headers });

/** What a client must see while a store hangs: a prompt 503 problem with Retry-After, never a hang or a 500. */
function unavailable(label: string, answer: Answer) {
  return {
    label,
    status: answer.status,
    type: answer.headers.get('content-type')?.split(';')[0],
    retryAfter: Number(answer.headers.get('retry-after')) > 0,
    inTime: answer.ms < PROMISED_MS,
  };
}
/** /health answers its own document (API.md), every other route a problem. */
const UNAVAILABLE = (label: string) => ({ label, status: 503, type: label === 'GET /health' ? 'application/json' : 'application/problem+json', retryAfter: true, inTime: true });

async function expectAllUnavailable(requests: Record<string, Promise<Answer>>): Promise<Record<string, Answer>> {
  const answers = Object.fromEntries(await Promise.all(Object.entries(requests).map(async ([label, p]) => [label, await p] as const)));
  expect(Object.entries(answers).map(([label, a]) => unavailable(label, a))).toEqual(Object.keys(answers).map(UNAVAILABLE));
  const slowest = Object.entries(answers).sort(([, a], [, b]) => b.ms - a.ms)[0];
  process.stdout.write(`${expect.getState().currentTestName}: ${Object.keys(answers).length} answers, slowest ${slowest[0]} in ${slowest[1].ms} ms\n`);
  return answers;
}

/** Retries until a 2xx: the store is back and the server noticed without a restart. */
async function eventually(fn: () => Promise<Answer>, ms = 30_000): Promise<Answer> {
  const deadline = Date.now() + ms;
  for (;;) {
    const answer = await fn();
    if (answer.status < 300 || Date.now() > deadline) return answer;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function listen(t: TestApp): Promise<string> {
  await t.app.listen(0, '127.0.0.1');
  return t.app.getUrl();
}

/** After the store returns: writes succeed, the read models catch up, health is green, every projection runs. */
async function expectRecovered(base: string, articleId: string): Promise<void> {
  const after = await eventually(() => post(base, `/articles/${articleId}/topics`, { topic: 'After the hang' }));
  expect(after.status).toBe(201);
  const read = await eventually(() => call(base, `/articles/${articleId}`, { headers: { 'x-wait-for-position': after.body.position } }));
  expect(read.status).toBe(200);
  expect(read.body.topics.map((t: { slug: string }) => t.slug)).toContain('after-the-hang');
  expect((await eventually(() => call(base, '/health'))).body).toMatchObject({ status: 'ok', eventStore: 'up', readStore: 'up' });
  const projections = await call(base, '/admin/projections', { token: admin });
  for (const p of projections.body.items) expect([p.name, p.status, p.error]).toEqual([p.name, 'running', null]);
}

describe('a hung PostgreSQL holding the event log and the read models (a proxy that stops forwarding)', () => {
  let db: TestDatabase;
  let proxy: TcpProxy;
  let t: TestApp;
  let direct: Client[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    const target = new URL(db.url);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    t = await startTestApp({ db: { url: proxy.via(db.url), appUrl: proxy.via(db.appUrl), drop: db.drop }, env: { RATE_LIMIT_WRITES_PER_MINUTE: '1000000' } });
  });
  afterAll(async () => {
    proxy?.resume();
    for (const client of direct) await client.end().catch(() => undefined);
    await t?.close();
    await proxy?.close();
  });

  async function connectDirect(): Promise<Client> {
    const client = new Client({ connectionString: db.url });
    await client.connect();
    direct.push(client);
    return client;
  }

  it('answers requests in flight and new ones 503 within 10 s, says so in /health, and resumes without a restart', async () => {
    const base = await listen(t);
    const drafted = await post(base, '/articles', { headline: 'Hang', body: 'Body.' });
    expect(drafted.status).toBe(201);
    const id = drafted.body.id;
    expect((await call(base, `/articles/${id}`, { headers: { 'x-wait-for-position': drafted.body.position } })).status).toBe(200);

    // Requests provably in flight: their statements wait on locks held outside the proxy, then the proxy hangs.
    const streamLock = await connectDirect();
    await streamLock.query('BEGIN');
    await streamLock.query('SELECT 1 FROM event_streams WHERE stream_id = $1 FOR UPDATE', [`article-${id}`]);
    const tableLock = await connectDirect();
    const { rows } = await tableLock.query<{ schema_name: string }>(`SELECT schema_name FROM projection_status WHERE name = 'articles'`);
    await tableLock.query('BEGIN');
    await tableLock.query(`LOCK TABLE "${rows[0].schema_name}".articles IN ACCESS EXCLUSIVE MODE`);
    const inFlight = {
      'POST topics': post(base, `/articles/${id}/topics`, { topic: 'In flight' }),
      'POST topics with a key': post(base, `/articles/${id}/topics`, { topic: 'In flight keyed' }, { 'idempotency-key': 'in-flight-1' }),
      'GET /articles': call(base, '/articles'),
      'GET /articles/{id}': call(base, `/articles/${id}`),
    };
    // Counted from a client of its own: inside the locking transaction, pg_stat_activity is read once and kept.
    const monitor = await connectDirect();
    const waiting = async () =>
      (await monitor.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`)).rows[0].n;
    for (const deadline = Date.now() + 10_000; (await waiting()) < 4 && Date.now() < deadline; ) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await waiting()).toBeGreaterThanOrEqual(4);
    proxy.hang();
    // The statements go on and commit on the server; their answers never get out.
    await streamLock.query('COMMIT');
    await tableLock.query('COMMIT');
    await expectAllUnavailable(inFlight);

    // New requests while it hangs, more of them at once than the pool has connections.
    const during = await expectAllUnavailable({
      'GET /health': call(base, '/health'),
      'POST /articles': post(base, '/articles', { headline: 'During', body: 'Body.' }),
      'POST topics': post(base, `/articles/${id}/topics`, { topic: 'During' }),
      'POST topics with a key': post(base, `/articles/${id}/topics`, { topic: 'During keyed' }, { 'idempotency-key': 'during-1' }),
      'GET /articles/{id} waiting for a position': call(base, `/articles/${id}`, { headers: { 'x-wait-for-position': drafted.body.position } }),
      'GET /articles/{id}/history': call(base, `/articles/${id}/history`),
      'GET /articles/{id}/revisions/0': call(base, `/articles/${id}/revisions/0`),
      'GET /audit': call(base, '/audit'),
      'GET /admin/projections': call(base, '/admin/projections', { token: admin }),
      ...Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`GET /articles #${i}`, call(base, '/articles')])),
    });
    expect(during['GET /health'].body).toMatchObject({ status: 'unavailable', eventStore: 'down', readStore: 'down' });

    proxy.resume();
    await expectRecovered(base, id);
    // The keyed write that was in flight was appended after all: retried with its key, it is answered, not applied twice.
    const retried = await eventually(() => post(base, `/articles/${id}/topics`, { topic: 'In flight keyed' }, { 'idempotency-key': 'in-flight-1' }));
    expect(retried.status).toBe(201);
    const history = await call(base, `/articles/${id}/history?limit=200`, { headers: { 'x-wait-for-position': retried.body.position } });
    const tagged = history.body.items.filter((e: { type: string; data: { label?: string } }) => e.type === 'TopicTagged' && e.data.label === 'In flight keyed');
    expect(tagged.map((e: { revision: number }) => e.revision)).toEqual([retried.body.revision]);
  }, 120_000);
});

describe('EventStoreDB up, the read database hung (a proxy that stops forwarding)', () => {
  let esdb: EsdbTestServer;
  let proxy: TcpProxy;
  let t: TestApp;

  afterAll(async () => {
    proxy?.resume();
    await t?.close();
    await proxy?.close();
    await esdb?.stop();
  });

  it('answers reads and keyed writes 503 within 10 s, takes unkeyed writes into the log, and catches up when the database returns', async () => {
    esdb = await startEsdbTestServer({ port: 0 });
    const db = await createTestDatabase();
    const target = new URL(db.url);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    t = await startTestApp({ db: { url: proxy.via(db.url), appUrl: proxy.via(db.appUrl), drop: db.drop }, eventStoreConnectionString: esdb.connectionString });
    const base = await listen(t);
    const drafted = await post(base, '/articles', { headline: 'Hang', body: 'Body.' });
    expect(drafted.status).toBe(201);
    const id = drafted.body.id;
    expect((await call(base, `/articles/${id}`, { headers: { 'x-wait-for-position': drafted.body.position } })).status).toBe(200);

    proxy.hang();
    const [during, unkeyed] = await Promise.all([
      expectAllUnavailable({
        'GET /health': call(base, '/health'),
        'GET /articles': call(base, '/articles'),
        'GET /articles/{id}': call(base, `/articles/${id}`),
        'GET /audit': call(base, '/audit'),
        'POST topics with a key': post(base, `/articles/${id}/topics`, { topic: 'During keyed' }, { 'idempotency-key': 'during-1' }),
      }),
      post(base, `/articles/${id}/topics`, { topic: 'Unkeyed during the hang' }),
    ]);
    expect(during['GET /health'].body).toMatchObject({ status: 'unavailable', eventStore: 'up', readStore: 'down' });
    expect([unkeyed.status, unkeyed.ms < PROMISED_MS]).toEqual([201, true]);

    proxy.resume();
    const read = await eventually(() => call(base, `/articles/${id}`, { headers: { 'x-wait-for-position': unkeyed.body.position } }));
    expect(read.status).toBe(200);
    expect(read.body.topics.map((t: { slug: string }) => t.slug)).toEqual(['unkeyed-during-the-hang']);
    await expectRecovered(base, id);
  }, 120_000);
});

describe('an embedded PostgreSQL stopped with SIGSTOP', () => {
  let pg: PgProcess;
  let dir: string | undefined;
  let t: TestApp;

  afterAll(async () => {
    pg?.signal('SIGCONT');
    await t?.close();
    await pg?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('answers 503 within 10 s while every PostgreSQL process is stopped, and resumes on SIGCONT', async () => {
    dir = mkdtempSync(join(tmpdir(), 'copydesk-sigstop-'));
    chmodSync(dir, 0o755);
    pg = await startPgProcess(dir, await freePort());
    t = await startTestApp({ db: { url: pg.ownerUrl, appUrl: pg.url, drop: async () => undefined } });
    const base = await listen(t);
    const drafted = await post(base, '/articles', { headline: 'Stopped', body: 'Body.' });
    expect(drafted.status).toBe(201);
    const id = drafted.body.id;
    expect((await call(base, `/articles/${id}`, { headers: { 'x-wait-for-position': drafted.body.position } })).status).toBe(200);

    expect(pg.signal('SIGSTOP')).toBeGreaterThan(1);
    const during = await expectAllUnavailable({
      'GET /health': call(base, '/health'),
      'GET /articles': call(base, '/articles'),
      'POST /articles': post(base, '/articles', { headline: 'During', body: 'Body.' }),
      'POST topics': post(base, `/articles/${id}/topics`, { topic: 'During' }),
      'GET /audit': call(base, '/audit'),
    });
    expect(during['GET /health'].body).toMatchObject({ eventStore: 'down', readStore: 'down' });

    pg.signal('SIGCONT');
    await expectRecovered(base, id);
  }, 120_000);
});

describe('a hung EventStoreDB (the wire-protocol test server behind a proxy that stops forwarding)', () => {
  let esdb: EsdbTestServer;
  let proxy: TcpProxy;
  let t: TestApp;

  afterAll(async () => {
    proxy?.resume();
    await t?.close();
    await proxy?.close();
    await esdb?.stop();
  });

  it('answers writes 503 within 10 s, keeps reads answering from PostgreSQL, and resumes without a restart', async () => {
    esdb = await startEsdbTestServer({ port: 0 });
    proxy = await startTcpProxy({ host: '127.0.0.1', port: esdb.port });
    t = await startTestApp({ eventStoreConnectionString: `esdb://127.0.0.1:${proxy.port}?tls=false` });
    const base = await listen(t);
    const drafted = await post(base, '/articles', { headline: 'Hang', body: 'Body.' });
    expect(drafted.status).toBe(201);
    const id = drafted.body.id;
    expect((await call(base, `/articles/${id}`, { headers: { 'x-wait-for-position': drafted.body.position } })).status).toBe(200);

    proxy.hang();
    const during = await expectAllUnavailable({
      'GET /health': call(base, '/health'),
      'POST /articles': post(base, '/articles', { headline: 'During', body: 'Body.' }),
      'POST topics': post(base, `/articles/${id}/topics`, { topic: 'During' }),
      'POST topics with a key': post(base, `/articles/${id}/topics`, { topic: 'During keyed' }, { 'idempotency-key': 'during-1' }),
      'GET /articles/{id}/revisions/0': call(base, `/articles/${id}/revisions/0`),
    });
    expect(during['GET /health'].body).toMatchObject({ status: 'unavailable', eventStore: 'down', readStore: 'up' });
    expect((await call(base, `/articles/${id}`)).status).toBe(200);
    expect((await call(base, '/audit')).status).toBe(200);

    proxy.resume();
    await expectRecovered(base, id);
  }, 120_000);
});
