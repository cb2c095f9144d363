import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import { startTestApp, TestApp } from '../support/app';

/** CI runs a modest number of cases per route; FUZZ_RUNS=1000 npm test -- test/security/fuzz for a long run. */
const RUNS = Number(process.env.FUZZ_RUNS ?? 30);

const adversarialString = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.constantFrom(
    '\u0000',
    'a\u0000b',
    '\ud800',
    'x\udc00y',
    "'; DROP TABLE events; --",
    '<script>alert(1)</script>',
    '{{7*7}}',
    '${process.exit()}',
    '../../etc/passwd',
    '\u202e\u200b',
    ' ',
  ),
  fc.integer({ min: 1, max: 4 }).map((k) => 'x'.repeat(k * 60000)),
);

function deep(depth: number): unknown {
  let value: unknown = 'bottom';
  for (let i = 0; i < depth; i++) value = i % 2 ? { nested: value } : [value];
  return value;
}

const adversarialValue = fc.oneof(
  adversarialString,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.anything(), { maxLength: 5 }),
  fc.dictionary(fc.string(), fc.anything(), { maxKeys: 5 }),
  fc.integer({ min: 20, max: 2000 }).map(deep),
  fc.constant({ __proto__: { admin: true } }),
  fc.constant(JSON.parse('{"__proto__": {"polluted": true}}')),
);

/** A valid-looking body with one field replaced, one extra field, or something else entirely. */
function mutations(base: Record<string, unknown>) {
  const keys = Object.keys(base);
  return fc.oneof(
    fc.anything({ maxDepth: 4 }),
    keys.length ? fc.tuple(fc.constantFrom(...keys), adversarialValue).map(([k, v]) => ({ ...base, [k]: v })) : fc.constant(base),
    fc.tuple(fc.string({ minLength: 1, maxLength: 20 }), adversarialValue).map(([k, v]) => ({ ...base, [k]: v })),
    fc.record(Object.fromEntries(keys.map((k) => [k, adversarialValue]))),
  );
}

describe('adversarial bodies on every write route', () => {
  let t: TestApp;
  let articleId: string;
  let quoteId: string;
  let claimId: string;
  let sourceId: string;
  // Counted in the table itself: $all's visible head can lag behind a concurrent transaction elsewhere on the server.
  const eventCount = async () => Number((await t.runtime.pool.query('SELECT count(*) FROM events')).rows[0].count);
  const headers = () => ({ authorization: `Bearer ${t.token(['reporter', 'editor', 'fact_checker'], 'fuzzer')}` });

  beforeAll(async () => {
    t = await startTestApp({ env: { RATE_LIMIT_WRITES_PER_MINUTE: '1000000' } });
    sourceId = (await t.http().post('/sources').set(headers()).send({ name: 'S', kind: 'person' })).body.id;
    articleId = (await t.http().post('/articles').set(headers()).send({ headline: 'Fuzz', body: 'A quote here.\n\nMore text.' })).body.id;
    quoteId = (await t.http().post(`/articles/${articleId}/quotes`).set(headers()).send({ text: 'A quote here.', speaker: 'X' })).body.quoteId;
    claimId = (await t.http().post(`/articles/${articleId}/claims`).set(headers()).send({ text: 'Claim' })).body.claimId;
  });
  afterAll(async () => {
    await t.close();
  });

  const routes: [string, () => string, Record<string, unknown>][] = [
    ['post', () => '/articles', { headline: 'H', body: 'B', byline: 'By', desk: 'D', id: randomUUID() }],
    ['put', () => `/articles/${articleId}/headline`, { headline: 'H2', reason: 'r' }],
    ['put', () => `/articles/${articleId}/body`, { body: 'A quote here.', reason: 'r' }],
    ['post', () => `/articles/${articleId}/quotes`, { text: 'A quote here.', speaker: 'S', quoteId: randomUUID() }],
    ['post', () => `/articles/${articleId}/quotes/${quoteId}/attribution`, { sourceId: '', attribution: 'said', method: 'interview' }],
    ['post', () => `/articles/${articleId}/quotes/${quoteId}/withdrawal`, { reason: 'r' }],
    ['post', () => `/articles/${articleId}/topics`, { topic: 'T' }],
    ['post', () => `/articles/${articleId}/claims`, { text: 'C', quoteId: randomUUID(), claimId: randomUUID() }],
    ['post', () => `/articles/${articleId}/claims/${claimId}/verdict`, { verdict: 'false', evidence: [{ url: 'https://e.org', note: 'n' }], note: 'n' }],
    ['post', () => `/articles/${articleId}/submission`, {}],
    ['post', () => `/articles/${articleId}/approval`, {}],
    ['post', () => `/articles/${articleId}/publication`, {}],
    ['post', () => `/articles/${articleId}/retraction`, { reason: 'r' }],
    ['post', () => `/articles/${articleId}/corrections`, { text: 'c' }],
    ['post', () => '/sources', { name: 'N', kind: 'person', title: 'T', organization: 'O', id: randomUUID() }],
    ['put', () => `/sources/${sourceId}`, { name: 'N', title: 'T', organization: 'O' }],
  ];

  it.each(routes)('%s %s never answers 5xx and appends nothing when it refuses', async (method, url, base) => {
    await fc.assert(
      fc.asyncProperty(mutations(base), async (body) => {
        const before = await eventCount();
        const raw = JSON.stringify(body);
        const req = (t.http() as any)[method](url()).set(headers());
        const res = await (raw === undefined ? req : req.set('content-type', 'application/json').send(raw));
        expect(res.status).toBeLessThan(500);
        expect(res.headers['content-type']).toMatch(res.status >= 400 ? /^application\/problem\+json/ : /^application\/json/);
        if (res.status >= 400) {
          expect(await eventCount()).toBe(before);
          expect(JSON.stringify(res.body)).not.toMatch(/\bat .+\.(ts|js):\d+|SELECT |INSERT INTO/);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('names the field when text holds characters PostgreSQL cannot store', async () => {
    for (const [text, field] of [
      [{ headline: 'a\u0000b', body: 'B' }, 'headline'],
      [{ headline: 'H', body: 'x\ud800' }, 'body'],
    ] as const) {
      const res = await t.http().post('/articles').set(headers()).send(text);
      expect(res.status).toBe(400);
      expect(res.body.errors).toContainEqual(expect.objectContaining({ field }));
    }
  });

  it('refuses bodies nested deeper than 32 levels with 400 before anything walks them', async () => {
    for (const key of [undefined, 'deep-key']) {
      const req = t.http().post('/articles').set(headers()).set('content-type', 'application/json');
      const res = await (key ? req.set('idempotency-key', key) : req).send(`{"headline":${'['.repeat(5000)}1${']'.repeat(5000)},"body":"B"}`);
      expect([res.status, res.body.type]).toEqual([400, 'validation-failed']);
      expect(res.body.errors[0].field).toBe('(body)');
    }
  });

  it('stores SQL and HTML fragments as text, verbatim', async () => {
    const headline = "Robert'); DROP TABLE events;-- <img src=x onerror=alert(1)>";
    const res = await t.http().post('/articles').set(headers()).send({ headline, body: 'B' });
    expect(res.status).toBe(201);
    const [event] = await t.runtime.eventStore.readStream(`article-${res.body.id}`);
    expect(event.data.headline).toBe(headline);
  });
});
