import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isNewsroomEvent } from '../../src/distribution/webhooks/payload';
import { RecordedEvent } from '../../src/event-store/event-store';
import { startTestApp, TestApp } from '../support/app';
import { EVENT_STORES, StoreFixture, StoreKind, startEventStore } from '../support/event-stores';
import { Receiver } from './receiver';
import { actors, Actors, draftSeedArticle } from './session';

/*
 * Webhook delivery to real HTTP receivers on 127.0.0.1 (hence WEBHOOK_ALLOW_PRIVATE=true, but in the
 * SSRF spec), on both event stores.
 */

/** What a receiver does with the secret, written here from the Standard Webhooks text, not from the server's code. */
function verifies(secret: string, id: string, timestamp: string, body: string, signature: string): boolean {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const expected = `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
  return signature.split(' ').some((s) => s.length === expected.length && timingSafeEqual(Buffer.from(s), Buffer.from(expected)));
}

const schema = JSON.parse(readFileSync(join(__dirname, '../../docs/specs/ninjs-schema_2.2.json'), 'utf8'));
const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats(ajv);
ajv.addSchema({ $id: 'https://geojson.org/schema/GeoJSON.json', not: {} });
const validateNinjs = ajv.compile(schema);

const FAST_RETRIES = { WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_RETRY_BASE_MS: '50', WEBHOOK_RETRY_MAX_MS: '300' };


/** Polls until `check` answers something other than undefined. */
async function eventually<T>(check: () => Promise<T | undefined>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The receiver answers before the server records the delivery: wait for the checkpoint to pass `position`. */
async function checkpointAt(a: Actors, id: string, position: string) {
  return eventually(async () => {
    const sub = (await a.admin('get', `/admin/webhooks/${id}`, undefined, 200)).body;
    return BigInt(sub.position) >= BigInt(position) ? sub : undefined;
  }, `webhook ${id} to record position ${position}`);
}

/** The newsroom events after `position`, once the log shows every one up to `through` (a write's answer). */
async function newsroomEventsAfter(t: TestApp, position: string, through: string): Promise<RecordedEvent[]> {
  return eventually(async () => {
    const events = await t.runtime.eventStore.readAll({ fromPosition: position, maxCount: 100_000 });
    return events.some((e) => e.position === through) ? events.filter(isNewsroomEvent) : undefined;
  }, `the log to show position ${through}`);
}

async function subscribe(a: Actors, url: string, events: string[] = ['*']) {
  const res = await a.admin('post', '/admin/webhooks', { url, events, description: 'website' });
  if (res.status !== 201) throw new Error(`subscribe: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { id: string; url: string; events: string[]; secret: string; createdAt: string };
}

/** `copydesk_webhook_deliveries_total` by outcome, as GET /metrics shows it. */
async function deliveryCounts(app: TestApp): Promise<Record<'delivered' | 'failed' | 'disabled', number>> {
  const text: string = (await app.http().get('/metrics')).text;
  const count = (outcome: string) => Number(text.match(new RegExp(`^copydesk_webhook_deliveries_total\\{outcome="${outcome}"\\} (\\d+)$`, 'm'))?.[1] ?? 0);
  return { delivered: count('delivered'), failed: count('failed'), disabled: count('disabled') };
}

describe.each(EVENT_STORES)('webhooks on %s', (kind: StoreKind) => {
  let store: StoreFixture;
  let t: TestApp;
  let a: Actors;
  const receivers: Receiver[] = [];
  const receiver = async () => {
    const r = await new Receiver().start();
    receivers.push(r);
    return r;
  };

  beforeAll(async () => {
    store = await startEventStore(kind);
    t = await startTestApp({ eventStoreConnectionString: store.eventStoreConnectionString, env: FAST_RETRIES });
    a = actors(t);
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await Promise.all(receivers.map((r) => r.stop()));
    await store?.stop();
  });

  it('a scripted session reaches the receiver exactly as the log holds it, in order, signed; a tampered body fails; subscribing and deleting are audited', async () => {
    const rx = await receiver();
    const created = await subscribe(a, rx.url);
    expect(created).toEqual({ id: expect.any(String), url: rx.url, events: ['*'], secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]+=*$/), createdAt: expect.any(String) });
    expect(Buffer.from(created.secret.slice(6), 'base64')).toHaveLength(32);
    const listed = (await a.admin('get', '/admin/webhooks', undefined, 200)).body;
    expect(listed.items).toEqual([expect.objectContaining({ id: created.id, url: rx.url, status: 'active', lastError: null })]);
    expect(JSON.stringify(listed)).not.toContain(created.secret.slice(6));
    const start = (await a.admin('get', `/admin/webhooks/${created.id}`, undefined, 200)).body.position;

    const seed = await draftSeedArticle(a);
    await a.reporter('post', `${seed.A}/submission`, {}, 200);
    await a.editor('post', `${seed.A}/approval`, {}, 200);
    await a.editor('post', `${seed.A}/publication`, {}, 200);
    await a.editor('put', `${seed.A}/headline`, { headline: 'Bridge to close for a year', reason: 'Precision' }, 200);
    await a.editor('post', `${seed.A}/corrections`, { text: 'An earlier version misnamed the bridge.' }, 201);
    const last = (await a.reporter('put', `/sources/${seed.sources.mayor}`, { title: 'Former mayor' }, 200)).body.position;

    const log = await newsroomEventsAfter(t, start, last);
    expect(log.length).toBeGreaterThan(20);
    await rx.until(() => rx.delivered.length >= log.length);
    expect(rx.requests).toHaveLength(log.length);
    const payloads = rx.requests.map((r) => JSON.parse(r.body));
    expect(payloads.map((p) => [p.type, p.data.eventId, p.data.streamId, p.data.revision, p.data.position, p.data.event])).toEqual(
      log.map((e) => [e.type, e.id, e.streamId, e.revision, e.position, e.data]),
    );
    expect(rx.requests.map((r) => r.id)).toEqual(log.map((e) => e.id));
    for (const [i, p] of payloads.entries()) {
      expect(p.timestamp).toBe(log[i].metadata.occurredAt);
      expect(p.data).toMatchObject({ occurredAt: log[i].metadata.occurredAt, actor: { id: (log[i].metadata.actor as any).id, name: (log[i].metadata.actor as any).name }, reason: log[i].metadata.reason ?? null });
    }

    for (const r of rx.requests) {
      expect(Math.abs(Number(r.timestamp) - Date.now() / 1000)).toBeLessThan(120);
      expect(verifies(created.secret, r.id, r.timestamp, r.body, r.signature)).toBe(true);
    }
    const sample = rx.requests[0];
    expect(verifies(created.secret, sample.id, sample.timestamp, sample.body.replace('"type":"', '"type":"X'), sample.signature)).toBe(false);
    expect(verifies(created.secret, sample.id, String(Number(sample.timestamp) + 1), sample.body, sample.signature)).toBe(false);
    expect(verifies(`whsec_${Buffer.alloc(32, 1).toString('base64')}`, sample.id, sample.timestamp, sample.body, sample.signature)).toBe(false);

    // The article, as ninjs at that revision, for the listed events of a published article only.
    const withArticle = payloads.filter((p) => p.data.article).map((p) => p.type);
    expect(withArticle).toEqual(['ArticlePublished', 'HeadlineChanged', 'CorrectionIssued']);
    for (const p of payloads.filter((p) => p.data.article)) {
      expect(validateNinjs(p.data.article) ? [] : validateNinjs.errors).toEqual([]);
      expect(p.data.article).toMatchObject({ version: String(p.data.revision), pubstatus: 'usable' });
    }
    expect(payloads.find((p) => p.type === 'HeadlineChanged').data.article.headlines[0].value).toBe('Bridge to close for a year');
    expect(payloads.find((p) => p.type === 'ArticlePublished').data.article.headlines[0].value).toBe('Bridge to close');

    await checkpointAt(a, created.id, log[log.length - 1].position);
    const deliveries = (await a.admin('get', `/admin/webhooks/${created.id}/deliveries?limit=200`, undefined, 200)).body.items;
    expect(deliveries.map((d: any) => d.eventId)).toEqual(log.map((e) => e.id).reverse());
    expect(deliveries.every((d: any) => d.status === 'delivered' && d.attempts === 1 && d.responseStatus === 200 && d.lastError === null && d.deliveredAt)).toBe(true);

    // Deleted: deliveries stop; who subscribed and who deleted is in the audit trail.
    const deleted = await a.admin('delete', `/admin/webhooks/${created.id}`, undefined, 200);
    expect((await a.admin('get', `/admin/webhooks/${created.id}`)).status).toBe(404);
    expect((await a.admin('delete', `/admin/webhooks/${created.id}`)).body.type).toBe('webhook-not-found');
    await a.reporter('post', '/articles', { headline: 'After', body: 'Nobody hears of this.' }, 201);
    await new Promise((r) => setTimeout(r, 1500));
    expect(rx.requests).toHaveLength(log.length);
    const audit = (await t.http().get('/audit?limit=200').set('authorization', `Bearer ${t.token(['admin'], 'ada', 'Ada Admin')}`).set('x-wait-for-position', deleted.body.position)).body.items;
    const trail = audit.filter((e: any) => e.streamId === `webhook-${created.id}`).map((e: any) => [e.type, e.actor.id, e.data.destination ?? null]);
    expect(trail).toEqual([
      ['WebhookUnsubscribed', 'ada', null],
      ['WebhookSubscribed', 'ada', `http://127.0.0.1:${rx.port}`],
    ]);
    expect(JSON.stringify(audit)).not.toContain(created.secret.slice(6));
  }, 60_000);

  it('a subscription to some event types gets only those; its checkpoint moves past the others', async () => {
    const rx = await receiver();
    const created = await subscribe(a, rx.url, ['ArticleDrafted', 'ArticlePublished']);
    const start = (await a.admin('get', `/admin/webhooks/${created.id}`, undefined, 200)).body.position;
    const article = (await a.reporter('post', '/articles', { headline: 'Picky', body: 'First.' }, 201)).body.id;
    await a.reporter('put', `/articles/${article}/headline`, { headline: 'Picky, changed' }, 200);
    const last = (await a.reporter('put', `/articles/${article}/body`, { body: 'Second.' }, 200)).body.position;
    const log = await newsroomEventsAfter(t, start, last);
    await checkpointAt(a, created.id, last);
    expect(rx.requests.map((r) => [r.id, JSON.parse(r.body).type])).toEqual(log.filter((e) => e.type === 'ArticleDrafted').map((e) => [e.id, 'ArticleDrafted']));
  }, 30_000);

  it('a receiver that answers 500, then is down, then returns: every event arrives, in order, with the same webhook-id across retries; the deliveries list shows the attempts', async () => {
    const rx = await receiver();
    rx.mode = 500;
    const countedBefore = await deliveryCounts(t);
    const created = await subscribe(a, rx.url);
    const start = (await a.admin('get', `/admin/webhooks/${created.id}`, undefined, 200)).body.position;
    const article = (await a.reporter('post', '/articles', { headline: 'Flaky', body: 'First.' }, 201)).body.id;
    for (let i = 1; i <= 3; i++) await a.reporter('put', `/articles/${article}/body`, { body: `Version ${i}.` }, 200);
    await rx.until(() => rx.requests.length >= 4, 20_000, 'four failed attempts');
    const failing = (await a.admin('get', `/admin/webhooks/${created.id}`, undefined, 200)).body;
    expect(failing).toMatchObject({ status: 'failing', lastError: 'answered 500' });
    const retrying = (await a.admin('get', `/admin/webhooks/${created.id}/deliveries`, undefined, 200)).body.items;
    expect(retrying).toEqual([expect.objectContaining({ eventType: 'ArticleDrafted', status: 'retrying', responseStatus: 500, deliveredAt: null })]);
    expect(retrying[0].attempts).toBeGreaterThanOrEqual(3);

    await rx.stop();
    let last = '';
    for (let i = 4; i <= 6; i++) last = (await a.reporter('put', `/articles/${article}/body`, { body: `Version ${i}.` }, 200)).body.position;
    await new Promise((r) => setTimeout(r, 1000));
    const down = (await a.admin('get', `/admin/webhooks/${created.id}`, undefined, 200)).body;
    expect(down.status).toBe('failing');
    expect(down.lastError).toMatch(/ECONNREFUSED/);

    rx.mode = 'ok';
    await rx.start();
    const log = await newsroomEventsAfter(t, start, last);
    expect(log).toHaveLength(7);
    await rx.until(() => rx.delivered.length >= log.length);
    expect(rx.delivered.map((r) => r.id)).toEqual(log.map((e) => e.id));
    // Every request, failed or not, carried the id of the event it was for; none went ahead of an earlier one.
    const order = rx.requests.map((r) => log.findIndex((e) => e.id === r.id));
    expect(order.every((index, i) => index >= 0 && (i === 0 || index >= order[i - 1]))).toBe(true);
    const firstAttempts = rx.requests.filter((r) => r.id === log[0].id);
    expect(firstAttempts.length).toBeGreaterThanOrEqual(4);
    expect(new Set(firstAttempts.map((r) => r.body)).size).toBe(1);
    for (const r of rx.requests) expect(verifies(created.secret, r.id, r.timestamp, r.body, r.signature)).toBe(true);

    const after = await checkpointAt(a, created.id, log[log.length - 1].position);
    expect(after).toMatchObject({ status: 'active', lastError: null, position: log[log.length - 1].position });
    const deliveries = (await a.admin('get', `/admin/webhooks/${created.id}/deliveries?limit=3`, undefined, 200)).body;
    const rest = (await a.admin('get', `/admin/webhooks/${created.id}/deliveries?limit=10&cursor=${deliveries.nextCursor}`, undefined, 200)).body;
    const all = [...deliveries.items, ...rest.items];
    expect(rest.nextCursor).toBeNull();
    expect(all.map((d: any) => d.eventId)).toEqual(log.map((e) => e.id).reverse());
    expect(all.every((d: any) => d.status === 'delivered' && d.responseStatus === 200 && d.lastError === null)).toBe(true);
    // Its attempts: those the receiver saw (500s, then the 200) and those refused while it was down.
    expect(all[all.length - 1].attempts).toBeGreaterThan(firstAttempts.length);
    // The later events waited behind the first: each went out once, after it.
    expect(all.slice(0, -1).map((d: any) => d.attempts)).toEqual(log.slice(1).map(() => 1));
    // GET /metrics counted the attempts (other subscriptions of this app may have added to them meanwhile).
    const counted = await deliveryCounts(t);
    expect(counted.delivered - countedBefore.delivered).toBeGreaterThanOrEqual(log.length);
    expect(counted.failed - countedBefore.failed).toBeGreaterThanOrEqual(all[all.length - 1].attempts - 1);
  }, 60_000);
});

describe('webhook destinations (SSRF)', () => {
  let t: TestApp;
  let a: Actors;
  beforeAll(async () => {
    t = await startTestApp();
    a = actors(t);
  }, 60_000);
  afterAll(() => t?.close());

  it.each([
    'http://127.0.0.1:8080/hook',
    'http://localhost/hook',
    'http://[::1]/hook',
    'http://[::ffff:127.0.0.1]/hook',
    'http://[::ffff:a00:1]/hook',
    'http://10.1.2.3/hook',
    'http://172.16.0.9/hook',
    'http://192.168.1.20/hook',
    'http://169.254.169.254/latest/meta-data',
    'http://0.0.0.0/hook',
    'http://[fd12::1]/hook',
    'http://[fe80::1]/hook',
  ])('without WEBHOOK_ALLOW_PRIVATE, %s is refused (422 naming url) and nothing is recorded', async (url) => {
    const res = await a.admin('post', '/admin/webhooks', { url, events: ['*'] });
    expect([res.status, res.headers['content-type'], res.body.type, res.body.errors]).toEqual([
      422,
      expect.stringMatching(/^application\/problem\+json/),
      'webhook-destination-refused',
      [{ field: 'url', message: expect.stringMatching(/loopback or private/) }],
    ]);
    expect((await a.admin('get', '/admin/webhooks', undefined, 200)).body.items).toEqual([]);
  });

  it('a public address is accepted; bad bodies are 400 naming the field', async () => {
    expect((await a.admin('post', '/admin/webhooks', { url: 'https://93.184.215.14/hook', events: ['ArticlePublished', 'ArticlePublished'] })).body).toMatchObject({ events: ['ArticlePublished'] });
    for (const [body, field] of [
      [{ url: 'ftp://93.184.215.14/', events: ['*'] }, 'url'],
      [{ url: 'https://93.184.215.14/', events: [] }, 'events'],
      [{ url: 'https://93.184.215.14/', events: ['NoSuchEvent'] }, 'events'],
      [{ url: 'https://93.184.215.14/', events: ['*'], secret: 'mine' }, 'secret'],
    ] as const) {
      const res = await a.admin('post', '/admin/webhooks', body);
      expect([res.status, res.body.type, res.body.errors?.[0]?.field]).toEqual([400, 'validation-failed', field]);
    }
  });
});
