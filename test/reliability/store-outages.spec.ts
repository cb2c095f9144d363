import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signToken } from '../../src/auth/jwt';
import { freePort } from '../../src/read-store/embedded-postgres';
import { startTestApp, TEST_SECRET } from '../support/app';
import { EsdbTestServer, startEsdbTestServer } from '../support/esdb-test-server';
import { PgProcess, startPgProcess } from '../support/pg-process';
import { ServerProcess, startServerProcess } from '../support/server-process';

const reporter = signToken(TEST_SECRET, { id: 'r-1', name: 'Rita', roles: ['reporter'] });

interface Answer {
  status: number;
  headers: Headers;
  body: any;
  ms: number;
}

async function call(base: string, path: string, init: RequestInit = {}): Promise<Answer> {
  const started = Date.now();
  const res = await fetch(base + path, {
    ...init,
    headers: { authorization: `Bearer ${reporter}`, 'content-type': 'application/json', ...(init.headers ?? {}) },
  });
  return { status: res.status, headers: res.headers, body: await res.json().catch(() => null), ms: Date.now() - started };
}

const post = (base: string, path: string, body: object) => call(base, path, { method: 'POST', body: JSON.stringify(body) });

/** Retries until a 2xx: the store is back and the server noticed without a restart. */
async function eventually(fn: () => Promise<Answer>, ms = 30000): Promise<Answer> {
  const deadline = Date.now() + ms;
  for (;;) {
    const answer = await fn();
    if (answer.status < 300 || Date.now() > deadline) return answer;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

function expectUnavailable(answer: Answer): void {
  expect(answer.status).toBe(503);
  expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0);
  expect(answer.ms).toBeLessThan(10000);
}

describe('store outages: the Postgres event log (embedded PostgreSQL stopped and restarted)', () => {
  let pg: PgProcess;
  let server: ServerProcess;
  const dataDir = mkdtempSync(join(tmpdir(), 'copydesk-outage-'));
  // As root, PostgreSQL runs as the `postgres` user: a directory it may enter keeps the cluster here (not in /var/lib/copydesk).
  chmodSync(dataDir, 0o755);

  afterAll(async () => {
    await server?.kill();
    await pg?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers 503 with Retry-After while PostgreSQL is down, says so in /health, and resumes without a restart', async () => {
    const port = await freePort();
    pg = await startPgProcess(dataDir, port);
    server = await startServerProcess({ DATABASE_URL: pg.url, DATABASE_OWNER_URL: pg.ownerUrl });
    const base = server.url;
    const drafted = await post(base, '/articles', { headline: 'Outage', body: 'Body.' });
    expect(drafted.status).toBe(201);
    const id = drafted.body.id;

    await pg.stop();
    expectUnavailable(await post(base, `/articles/${id}/topics`, { topic: 'During' }));
    expectUnavailable(await call(base, `/articles/${id}`));
    const health = await call(base, '/health');
    expectUnavailable(health);
    expect(health.body).toMatchObject({ eventStore: 'down', readStore: 'down' });

    pg = await startPgProcess(dataDir, port);
    const after = await eventually(() => post(base, `/articles/${id}/topics`, { topic: 'After' }));
    expect(after.status).toBe(201);
    const read = await call(base, `/articles/${id}`, { headers: { 'x-wait-for-position': after.body.position } });
    expect(read.status).toBe(200);
    expect(read.body.topics.map((t: { slug: string }) => t.slug)).toEqual(['after']);
    expect((await call(base, '/health')).body).toMatchObject({ status: 'ok', eventStore: 'up', readStore: 'up' });
  }, 180000);
});

describe('store outages: EventStoreDB (the wire-protocol test server stopped and restarted)', () => {
  it('answers 503 while EventStoreDB is down, keeps reads answering, and catches up when it returns', async () => {
    let esdb: EsdbTestServer = await startEsdbTestServer({ port: 0 });
    const t = await startTestApp({ eventStoreConnectionString: esdb.connectionString });
    try {
      await t.app.listen(0, '127.0.0.1');
      const base = await t.app.getUrl();
      const drafted = await post(base, '/articles', { headline: 'Outage', body: 'Body.' });
      expect(drafted.status).toBe(201);
      const id = drafted.body.id;
      expect((await call(base, `/articles/${id}`, { headers: { 'x-wait-for-position': drafted.body.position } })).status).toBe(200);

      const { port, store } = esdb;
      await esdb.stop();
      expectUnavailable(await post(base, `/articles/${id}/topics`, { topic: 'During' }));
      const health = await call(base, '/health');
      expectUnavailable(health);
      expect(health.body).toMatchObject({ eventStore: 'down', readStore: 'up' });
      expect((await call(base, `/articles/${id}`)).status).toBe(200);

      esdb = await startEsdbTestServer({ port, store });
      const after = await eventually(() => post(base, `/articles/${id}/topics`, { topic: 'After' }));
      expect(after.status).toBe(201);
      const read = await call(base, `/articles/${id}`, { headers: { 'x-wait-for-position': after.body.position } });
      expect(read.status).toBe(200);
      expect(read.body.topics.map((t: { slug: string }) => t.slug)).toEqual(['after']);
      expect((await call(base, '/health')).body).toMatchObject({ status: 'ok', eventStore: 'up', readStore: 'up' });
    } finally {
      await t.close();
      await esdb.stop();
    }
  }, 120000);
});
