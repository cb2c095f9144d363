import { isNewsroomEvent } from '../../src/distribution/webhooks/payload';
import { signToken } from '../../src/auth/jwt';
import { createEventStore } from '../../src/event-store/create-event-store';
import { EventStore, RecordedEvent } from '../../src/event-store/event-store';
import { Pool } from 'pg';
import { startTestApp, TestApp, TEST_SECRET } from '../support/app';
import { createTestDatabase, TestDatabase } from '../support/database';
import { EVENT_STORES, StoreFixture, StoreKind, startEventStore } from '../support/event-stores';
import { ServerProcess, startServerProcess } from '../support/server-process';
import { Receiver } from './receiver';
import { actors, Actors } from './session';

/*
 * Delivery under stress, with real receivers on 127.0.0.1: fan-out past a receiver that never answers,
 * a server process killed (SIGKILL) in the middle of a delivery, and a subscription that fails for
 * longer than it may.
 */

const FAST = { WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_RETRY_BASE_MS: '50', WEBHOOK_RETRY_MAX_MS: '300', RATE_LIMIT_WRITES_PER_MINUTE: '1000000' };

async function eventually<T>(check: () => Promise<T | undefined>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function newsroomLog(store: EventStore, after: string, through: string): Promise<RecordedEvent[]> {
  return eventually(async () => {
    const events = await store.readAll({ fromPosition: after, maxCount: 100_000 });
    return events.some((e) => e.position === through) ? events.filter(isNewsroomEvent) : undefined;
  }, `the log to show ${through}`);
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

describe.each(EVENT_STORES)('webhook fan-out on %s', (kind: StoreKind) => {
  let store: StoreFixture;
  let t: TestApp;
  let a: Actors;
  const receivers = [new Receiver(), new Receiver(), new Receiver()];

  beforeAll(async () => {
    store = await startEventStore(kind);
    t = await startTestApp({ eventStoreConnectionString: store.eventStoreConnectionString, env: FAST });
    a = actors(t);
    for (const r of receivers) await r.start();
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await Promise.all(receivers.map((r) => r.stop()));
    await store?.stop();
  });

  it('100 events to 3 subscriptions, one receiver never answering: the other two get every event within a second of its commit, in order', async () => {
    const [first, second, dead] = receivers;
    dead.mode = 'hang';
    const ids: string[] = [];
    for (const r of [dead, first, second]) ids.push((await a.admin('post', '/admin/webhooks', { url: r.url, events: ['*'] }, 201)).body.id);
    const start = (await a.admin('get', `/admin/webhooks/${ids[2]}`, undefined, 200)).body.position;

    const sentAt = new Map<string, number>();
    const article = await (async () => {
      const before = Date.now();
      const res = await a.reporter('post', '/articles', { headline: 'Fan-out 0', body: 'One.' }, 201);
      sentAt.set(res.body.position, before);
      return res.body.id;
    })();
    let last = '';
    for (let i = 1; i < 100; i++) {
      const before = Date.now();
      last = (await a.reporter('put', `/articles/${article}/headline`, { headline: `Fan-out ${i}` }, 200)).body.position;
      sentAt.set(last, before);
    }
    const log = await newsroomLog(t.runtime.eventStore, start, last);
    expect(log).toHaveLength(100);
    await first.until(() => first.delivered.length >= 100 && second.delivered.length >= 100, 30_000, 'both live receivers to get 100 events');

    const latencies: number[] = [];
    for (const r of [first, second]) {
      expect(r.requests.map((q) => q.id)).toEqual(log.map((e) => e.id));
      for (const q of r.requests) {
        const position = JSON.parse(q.body).data.position;
        // From before the write was sent (so at most the commit's own latency more than from the commit).
        latencies.push(q.at - sentAt.get(position)!);
      }
    }
    process.stdout.write(
      `webhook fan-out on ${kind}: 100 events x 2 live receivers (1 never answering), latency from write sent to receipt: median ${percentile(latencies, 50)} ms, p99 ${percentile(latencies, 99)} ms, max ${Math.max(...latencies)} ms\n`,
    );
    expect(Math.max(...latencies)).toBeLessThan(1000);
    // The dead receiver holds its own subscription at its first event, and nobody else's.
    expect(new Set(dead.requests.map((q) => q.id))).toEqual(new Set([log[0].id]));
  }, 90_000);
});

describe.each(EVENT_STORES)('webhook delivery across a SIGKILL of the server on %s', (kind: StoreKind) => {
  let db: TestDatabase;
  let pool: Pool;
  let log: EventStore;
  let store: StoreFixture;
  let server: ServerProcess | null = null;
  const receiver = new Receiver();
  const admin = signToken(TEST_SECRET, { id: 'ada', name: 'Ada Admin', roles: ['admin'] });
  const reporter = signToken(TEST_SECRET, { id: 'rita', name: 'Rita Reporter', roles: ['reporter'] });
  const call = async (token: string, path: string, method = 'GET', body?: unknown) => {
    const res = await fetch(`${server!.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, body: (await res.json()) as any };
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    store = await startEventStore(kind);
    pool = new Pool({ connectionString: db.url, max: 2 });
    log = createEventStore({ eventStoreConnectionString: store.eventStoreConnectionString, pool, databaseUrl: db.url });
    await receiver.start();
  }, 60_000);
  afterAll(async () => {
    await server?.kill();
    await receiver.stop();
    await log?.close();
    await pool?.end();
    await db?.drop();
    await store?.stop();
  });

  it('killed while a receiver holds a delivery: after the restart every event arrives, in order; the interrupted one again, with the same webhook-id', async () => {
    const env = { DATABASE_URL: db.url, ...FAST, ...(store.eventStoreConnectionString ? { EVENTSTORE_CONNECTION_STRING: store.eventStoreConnectionString } : {}) };
    server = await startServerProcess(env);
    const created = await call(admin, '/admin/webhooks', 'POST', { url: receiver.url, events: ['*'] });
    expect(created.status).toBe(201);
    const start = (await call(admin, `/admin/webhooks/${created.body.id}`)).body.position;

    // Each answer takes 100 ms: deliveries fall behind the writes, and the tenth is in flight when the server dies.
    receiver.delayMs = 100;
    let interrupted: string | null = null;
    let killed: Promise<void> | null = null;
    receiver.onRequest = (request) => {
      if (receiver.requests.length === 10 && !killed) {
        interrupted = request.id;
        killed = server!.kill('SIGKILL');
      }
    };
    let last = '';
    for (let i = 0; i < 30 && !killed; i++) {
      try {
        const res = await call(reporter, '/articles', 'POST', { headline: `Crash ${i}`, body: 'Text.' });
        if (res.status === 201) last = res.body.position;
      } catch (error) {
        // The write in flight when the server died: its answer is lost (the event may be in the log; then it must arrive too).
        if (!killed) throw error;
      }
    }
    await eventually(async () => (killed ? true : undefined), 'the tenth delivery');
    await killed;
    receiver.onRequest = null;
    const beforeRestart = receiver.requests.length;

    server = await startServerProcess(env);
    const events = await newsroomLog(log, start, last);
    expect(events.length).toBeGreaterThanOrEqual(10);
    await receiver.until(() => new Set(receiver.requests.slice(beforeRestart).map((r) => r.id)).has(events[events.length - 1].id), 30_000, 'the last event after the restart');

    const ids = receiver.requests.map((r) => r.id);
    // Nothing lost: every event, and nothing else.
    expect([...new Set(ids)]).toEqual(events.map((e) => e.id));
    // In order: never an event before one that precedes it in the log (a repeat of the one in flight aside).
    const index = ids.map((id) => events.findIndex((e) => e.id === id));
    expect(index.every((x, i) => i === 0 || x >= index[i - 1])).toBe(true);
    // The interrupted delivery came again, with the same webhook-id and the same body.
    const copies = receiver.requests.filter((r) => r.id === interrupted);
    expect(copies.length).toBeGreaterThanOrEqual(2);
    expect(new Set(copies.map((c) => c.body)).size).toBe(1);
    const sub = await eventually(async () => {
      const s = (await call(admin, `/admin/webhooks/${created.body.id}`)).body;
      return s.position === events[events.length - 1].position ? s : undefined;
    }, 'the checkpoint to reach the last event');
    expect(sub).toMatchObject({ status: 'active', lastError: null });
  }, 120_000);
});

describe('a subscription failing for longer than it may (postgres)', () => {
  let t: TestApp;
  let a: Actors;
  const receiver = new Receiver();
  beforeAll(async () => {
    t = await startTestApp({ env: { ...FAST, WEBHOOK_DISABLE_AFTER_MS: '1500' } });
    a = actors(t);
    await receiver.start();
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await receiver.stop();
  });

  it('is disabled (audited as WebhookDisabled by the server), its delivery failed, and it tries no more', async () => {
    receiver.mode = 500;
    const id = (await a.admin('post', '/admin/webhooks', { url: receiver.url, events: ['ArticleDrafted'] }, 201)).body.id;
    await a.reporter('post', '/articles', { headline: 'Never heard', body: 'Text.' }, 201);
    const disabled = await eventually(async () => {
      const s = (await a.admin('get', `/admin/webhooks/${id}`, undefined, 200)).body;
      return s.status === 'disabled' ? s : undefined;
    }, 'the subscription to be disabled', 20_000);
    expect(disabled.lastError).toBe('answered 500');
    const [delivery] = (await a.admin('get', `/admin/webhooks/${id}/deliveries`, undefined, 200)).body.items;
    expect(delivery).toMatchObject({ eventType: 'ArticleDrafted', status: 'failed', responseStatus: 500 });
    expect(delivery.attempts).toBeGreaterThan(2);
    const tries = receiver.requests.length;
    await new Promise((r) => setTimeout(r, 1000));
    expect(receiver.requests.length).toBe(tries);
    const audit = await eventually(async () => {
      const items = (await a.admin('get', '/audit?type=WebhookDisabled', undefined, 200)).body.items;
      return items.length ? items : undefined;
    }, 'WebhookDisabled in the audit trail');
    expect(audit).toEqual([expect.objectContaining({ streamId: `webhook-${id}`, type: 'WebhookDisabled', actor: { id: 'copydesk', name: 'Copydesk webhook delivery' } })]);
  }, 60_000);
});

describe('the destination is checked again at delivery time (postgres)', () => {
  let db: TestDatabase;
  let t: TestApp | null = null;
  const receiver = new Receiver();
  beforeAll(async () => {
    db = await createTestDatabase();
    await receiver.start();
  });
  afterAll(async () => {
    await t?.close();
    await receiver.stop();
    await db?.drop();
  });

  it('a loopback subscription made while allowed delivers nothing once the server runs without WEBHOOK_ALLOW_PRIVATE', async () => {
    t = await startTestApp({ db, env: FAST });
    const id = (await actors(t).admin('post', '/admin/webhooks', { url: receiver.url, events: ['*'] }, 201)).body.id;
    await t.stop();
    t = await startTestApp({ db, env: { ...FAST, WEBHOOK_ALLOW_PRIVATE: 'false' } });
    const a = actors(t);
    await a.reporter('post', '/articles', { headline: 'Internal', body: 'Text.' }, 201);
    const failing = await eventually(async () => {
      const s = (await a.admin('get', `/admin/webhooks/${id}`, undefined, 200)).body;
      return s.status === 'failing' ? s : undefined;
    }, 'the delivery to be refused');
    expect(failing.lastError).toMatch(/loopback or private network/);
    expect(receiver.requests).toEqual([]);
  }, 60_000);
});
