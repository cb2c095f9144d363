import { randomUUID } from 'node:crypto';
import { PROJECTIONS } from '../../projections';
import { Metrics } from '../../src/metrics/metrics';
import { startTestApp, TestApp } from '../support/app';

/** One sample of the Prometheus text format: name, labels, value. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parse(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[key] = value;
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

/** The value of the one sample with these labels (0 when there is none). */
function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} ${JSON.stringify(labels)}`);
  return found[0]?.value ?? 0;
}

describe('GET /metrics', () => {
  let t: TestApp;
  const as = (roles: Parameters<TestApp['token']>[0], id: string) => ({ authorization: `Bearer ${t.token(roles, id)}` });
  const scrape = async () => {
    const res = await t.http().get('/metrics');
    expect(res.status).toBe(200);
    return { text: res.text, samples: parse(res.text), contentType: res.headers['content-type'] };
  };

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers without a token in the Prometheus text format, with the process metrics and every metric API.md lists', async () => {
    const { text, contentType } = await scrape();
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    for (const name of [
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_seconds',
      'copydesk_commands_total',
      'copydesk_command_duration_seconds',
      'copydesk_http_request_duration_seconds',
      'copydesk_projection_position',
      'copydesk_projection_lag_events',
      'copydesk_projection_lag_seconds',
      'copydesk_projection_status',
      'copydesk_event_store_append_duration_seconds',
      'copydesk_webhook_deliveries_total',
    ])
      expect([name, text.includes(`# TYPE ${name} `)]).toEqual([name, true]);
  });

  it('counts commands by type and outcome (ok, rejected, conflict) with their durations, and times appends', async () => {
    const before = (await scrape()).samples;
    const reporter = as(['reporter'], 'rita');
    const drafted = await t.http().post('/articles').set(reporter).send({ headline: 'Metrics', body: 'A body.' });
    expect(drafted.status).toBe(201);
    const id = drafted.body.id as string;
    expect((await t.http().put(`/articles/${id}/headline`).set(reporter).send({ headline: 'Metrics, again' })).status).toBe(200);
    // A domain rule refuses: rejected.
    expect((await t.http().post(`/articles/${id}/quotes`).set(reporter).send({ text: 'not in the body', speaker: 'Nobody' })).status).toBe(422);
    // If-Match on a revision the article has moved past: conflict.
    expect((await t.http().put(`/articles/${id}/headline`).set(reporter).set('if-match', '"0"').send({ headline: 'Stale' })).status).toBe(412);

    const after = (await scrape()).samples;
    const delta = (name: string, labels: Record<string, string>) => value(after, name, labels) - value(before, name, labels);
    expect(delta('copydesk_commands_total', { command: 'DraftArticle', outcome: 'ok' })).toBe(1);
    expect(delta('copydesk_commands_total', { command: 'ChangeHeadline', outcome: 'ok' })).toBe(1);
    expect(delta('copydesk_commands_total', { command: 'AddQuote', outcome: 'rejected' })).toBe(1);
    expect(delta('copydesk_commands_total', { command: 'ChangeHeadline', outcome: 'conflict' })).toBe(1);
    expect(delta('copydesk_command_duration_seconds_count', { command: 'ChangeHeadline' })).toBe(2);
    expect(value(after, 'copydesk_command_duration_seconds_sum', { command: 'DraftArticle' })).toBeGreaterThan(0);
    // Two appends (the draft and the headline); the refused commands appended nothing.
    expect(delta('copydesk_event_store_append_duration_seconds_count', { store: 'postgres' })).toBe(2);
  });

  it('times HTTP requests by route template, never by raw path, with every unknown path under one label', async () => {
    const id = randomUUID();
    const reader = as(['reporter'], 'rita');
    expect((await t.http().get(`/articles/${id}`).set(reader)).status).toBe(404);
    const strangers = [`/no-such-route/${randomUUID()}`, `/also-not-here-${randomUUID()}`];
    for (const path of strangers) expect((await t.http().get(path).set(reader)).status).toBe(404);

    const { text, samples } = await scrape();
    expect(value(samples, 'copydesk_http_request_duration_seconds_count', { method: 'GET', route: '/articles/:id', status: '404' })).toBe(1);
    expect(value(samples, 'copydesk_http_request_duration_seconds_count', { method: 'GET', route: '(unmatched)', status: '404' })).toBe(2);
    expect(value(samples, 'copydesk_http_request_duration_seconds_count', { method: 'POST', route: '/articles', status: '201' })).toBeGreaterThanOrEqual(1);
    expect(text).not.toContain(id);
    for (const path of strangers) expect(text).not.toContain(path);
    const routes = new Set(samples.filter((s) => s.name === 'copydesk_http_request_duration_seconds_count').map((s) => s.labels.route));
    for (const route of routes) expect([route, /^\/[a-z/:-]*$|^\(unmatched\)$/.test(route)]).toEqual([route, true]);
  });

  it('shows each projection as GET /admin/projections does, with a failed one, its lag in events and in seconds', async () => {
    const admin = as(['admin'], 'ada');
    // An event no projection of sources understands fails that projection; what follows waits behind it.
    const poisoned = Date.now();
    await t.runtime.eventStore.appendToStream(
      `source-${randomUUID()}`,
      [{ id: randomUUID(), type: 'SourceMerged', data: { into: randomUUID() }, metadata: { occurredAt: new Date().toISOString() } }],
      { expectedRevision: 'no_stream' },
    );
    expect((await t.http().post('/sources').set(as(['reporter'], 'rita')).send({ name: 'Jane Doe', kind: 'person' })).status).toBe(201);
    const deadline = Date.now() + 15_000;
    let statuses: { name: string; position: string | null; lag: number; status: string }[] = [];
    for (;;) {
      statuses = (await t.http().get('/admin/projections').set(admin)).body.items;
      const sources = statuses.find((s) => s.name === 'sources')!;
      const others = statuses.filter((s) => s.name !== 'sources');
      if ((sources.status === 'failed' && sources.lag >= 2 && others.every((s) => s.lag === 0)) || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    const { samples } = await scrape();
    const waited = (Date.now() - poisoned) / 1000;
    expect(statuses.map((s) => s.name)).toEqual(PROJECTIONS.map((p) => p.name));
    for (const status of statuses) {
      const projection = status.name;
      expect([projection, value(samples, 'copydesk_projection_position', { projection })]).toEqual([projection, Number(status.position ?? 0)]);
      expect([projection, value(samples, 'copydesk_projection_lag_events', { projection })]).toEqual([projection, status.lag]);
      for (const state of ['running', 'rebuilding', 'failed', 'stopped'])
        expect([projection, state, value(samples, 'copydesk_projection_status', { projection, status: state })]).toEqual([projection, state, state === status.status ? 1 : 0]);
    }
    expect(statuses.find((s) => s.name === 'sources')).toMatchObject({ status: 'failed' });
    expect(value(samples, 'copydesk_projection_status', { projection: 'sources', status: 'failed' })).toBe(1);
    const lagSeconds = value(samples, 'copydesk_projection_lag_seconds', { projection: 'sources' });
    // The poison event has waited since it was appended: at least the 300 ms slept, at most the whole test.
    expect(lagSeconds).toBeGreaterThanOrEqual(0.3);
    expect(lagSeconds).toBeLessThanOrEqual(waited + 1);
    expect(value(samples, 'copydesk_projection_lag_seconds', { projection: 'articles' })).toBe(0);
  });

  it('counts webhook deliveries by outcome through the function the deliverer calls', async () => {
    const metrics = t.app.get(Metrics);
    metrics.webhookDelivery('delivered');
    metrics.webhookDelivery('delivered');
    metrics.webhookDelivery('failed');
    const { samples } = await scrape();
    expect(value(samples, 'copydesk_webhook_deliveries_total', { outcome: 'delivered' })).toBe(2);
    expect(value(samples, 'copydesk_webhook_deliveries_total', { outcome: 'failed' })).toBe(1);
  });
});

describe('METRICS=off', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { METRICS: 'off' } });
  });
  afterAll(async () => {
    await t.close();
  });

  it('records nothing, GET /metrics is 404, and commands work as before', async () => {
    const drafted = await t.http().post('/articles').set('authorization', `Bearer ${t.token(['reporter'])}`).send({ headline: 'Quiet', body: 'A body.' });
    expect(drafted.status).toBe(201);
    const res = await t.http().get('/metrics');
    expect(res.status).toBe(404);
    expect(res.body.type).toBe('not-found');
    expect((await t.app.get(Metrics).exposition()).trim()).toBe('');
  });
});
