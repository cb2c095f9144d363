import fc from 'fast-check';
import { startTestApp, TestApp } from '../support/app';
import { adversarialString, expectProblem, FUZZ_RUNS, FuzzTally, headerMutations } from '../support/fuzz';

const cursorOf = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');

/** A read route and the query parameters it reads. */
interface ReadRoute {
  name: string;
  path: () => string;
  params: string[];
  cursorKind?: string;
}

describe('adversarial query strings, path ids and headers on every read route', () => {
  let t: TestApp;
  const tally = new FuzzTally();
  let reader: { authorization: string };
  let articleId: string;
  let sourceId: string;

  beforeAll(async () => {
    t = await startTestApp({ env: { RATE_LIMIT_WRITES_PER_MINUTE: '100000000' } });
    const reporter = { authorization: `Bearer ${t.token(['reporter'], 'rita')}` };
    const checker = { authorization: `Bearer ${t.token(['fact_checker'], 'fay')}` };
    reader = { authorization: `Bearer ${t.token(['admin'], 'reader')}` };
    sourceId = (await t.http().post('/sources').set(reporter).send({ name: 'Jane Doe', kind: 'person' })).body.id;
    for (let i = 0; i < 3; i++) {
      articleId = (await t.http().post('/articles').set(reporter).send({ headline: `Bridge ${i}`, body: 'She said “we will rebuild it” today.' })).body.id;
      const quoteId = (await t.http().post(`/articles/${articleId}/quotes`).set(reporter).send({ text: 'we will rebuild it', speaker: 'Jane' })).body.quoteId;
      await t.http().post(`/articles/${articleId}/quotes/${quoteId}/attribution`).set(reporter).send({ sourceId, method: 'interview' });
      await t.http().post(`/articles/${articleId}/topics`).set(reporter).send({ topic: `Topic ${i}` });
      const claim = await t.http().post(`/articles/${articleId}/claims`).set(checker).send({ text: 'The bridge closes' });
      await t.http().post(`/articles/${articleId}/claims/${claim.body.claimId}/verdict`).set(checker).send({ verdict: 'verified', evidence: [{ note: 'minutes' }] });
    }
    await t.http().put(`/articles/${articleId}/body`).set(reporter).send({ body: 'A new body.' });
    const last = await t.http().post(`/articles/${articleId}/topics`).set(reporter).send({ topic: 'Last' });
    await t.http().get('/audit').set(reader).set('x-wait-for-position', last.body.position);
  });
  afterAll(async () => {
    process.stdout.write(tally.summary('Read routes fuzzed'));
    await t.close();
  });

  const ROUTES: ReadRoute[] = [
    { name: 'GET /articles', path: () => '/articles', params: ['status', 'topic', 'q', 'limit', 'cursor'], cursorKind: 'articles' },
    { name: 'GET /articles/{id}/claims', path: () => `/articles/${articleId}/claims`, params: ['verdict', 'limit', 'cursor'], cursorKind: 'article-claims' },
    { name: 'GET /claims', path: () => '/claims', params: ['verdict', 'topic', 'limit', 'cursor'], cursorKind: 'claims' },
    { name: 'GET /articles/{id}/history', path: () => `/articles/${articleId}/history`, params: ['limit', 'cursor'], cursorKind: 'history' },
    { name: 'GET /audit', path: () => '/audit', params: ['actor', 'type', 'since', 'until', 'limit', 'cursor'], cursorKind: 'audit' },
    { name: 'GET /sources', path: () => '/sources', params: ['q', 'limit', 'cursor'], cursorKind: 'sources' },
    { name: 'GET /sources/{id}/quotes', path: () => `/sources/${sourceId}/quotes`, params: ['limit', 'cursor'], cursorKind: 'source-quotes' },
    { name: 'GET /topics', path: () => '/topics', params: ['limit', 'cursor'], cursorKind: 'topics' },
    { name: 'GET /articles/{id}/diff', path: () => `/articles/${articleId}/diff`, params: ['from', 'to'] },
  ];

  /** A value for a parameter: text of any kind, numbers and dates near their limits, or a forged cursor. */
  const paramValue = (kind: string | undefined) =>
    fc.oneof(
      adversarialString.map((s) => s.slice(0, 2000)),
      fc.constantFrom('draft', 'published', 'verified', 'none', '0', '1', '200', '201', '-1', '1e2', '2024-02-29', '2024-02-30', '2024-05-01T12:00:00Z', '9999999999999999999999'),
      fc.jsonValue({ maxDepth: 3 }).map((key) => cursorOf([kind ?? 'articles', key])),
      fc.oneof(fc.integer(), fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map(String), fc.string()).map((key) => cursorOf([kind ?? 'articles', key])),
    );

  const encode = (s: string) => {
    try {
      return encodeURIComponent(s);
    } catch {
      // A lone surrogate cannot be percent-encoded as UTF-8: send its replacement's bytes raw.
      return s.replace(/[\ud800-\udfff]/g, '%ED%A0%80').replace(/[^%\w-]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
    }
  };

  it.each(ROUTES.map((r) => [r.name, r] as const))('%s: any query string answers 2xx or a problem naming the parameter, never a 5xx', async (name, route) => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.tuple(fc.constantFrom(...route.params, 'unknown'), paramValue(route.cursorKind)), { maxLength: 3, selector: ([p]) => p }),
        headerMutations(['x-wait-for-position', 'x-correlation-id', 'authorization'], { 'x-wait-for-position': ['0', '"1"', 'abc', '-1', ' 1 '], authorization: ['Bearer ', 'Bearer x.y.z'] }),
        async (params, header) => {
          // A valid but distant position would be waited for 5 s: only malformed ones and passed ones are sent.
          if (header?.name === 'x-wait-for-position' && /^\s*"?\d{2,}"?\s*$/.test(header.value)) return;
          const query = params.map(([p, v]) => `${p}=${encode(v)}`).join('&');
          let req = t.http().get(`${route.path()}${query ? `?${query}` : ''}`).set(reader);
          if (header) req = req.set(header.name, header.value);
          const res = await req;
          tally.record(name, res.status, res.body?.type);
          expect(res.status).toBeLessThan(500);
          if (res.status >= 400) expectProblem(res);
          if (res.status === 400 && res.body.type === 'validation-failed')
            for (const error of res.body.errors) expect([...route.params, 'X-Wait-For-Position']).toContain(error.field);
          if (res.status === 200 && route.cursorKind) expect(Array.isArray(res.body.items)).toBe(true);
        },
      ),
      { numRuns: FUZZ_RUNS * 2, examples: [[[], null]] },
    );
    expect(tally.ok(name)).toBeGreaterThan(0);
  });

  const PATHS = [
    '/articles/{a}',
    '/articles/{a}/claims',
    '/articles/{a}/history',
    '/articles/{a}/revisions/{r}',
    '/articles/{a}/diff',
    '/articles/{a}/audit/verify',
    '/sources/{s}',
    '/sources/{s}/quotes',
    'POST /articles/{a}/quotes/{q}/attribution',
    'POST /articles/{a}/claims/{c}/verdict',
    'DELETE /articles/{a}/topics/{slug}',
    'POST /admin/projections/{name}/rebuild',
  ];

  it('any text in any path segment answers 2xx or a problem, never a 5xx', async () => {
    const all = { authorization: `Bearer ${t.token(['reporter', 'editor', 'fact_checker', 'admin'], 'everyone')}` };
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...PATHS),
        fc.nat(),
        fc.oneof(adversarialString.map((s) => s.slice(0, 3000)), fc.constantFrom('0', '-1', '2147483648', '%', '..', '', articleId.toUpperCase())),
        async (template, which, segment) => {
          const [method, path] = template.includes(' ') ? (template.split(' ') as ['POST' | 'DELETE', string]) : ['GET', template];
          const slots = path.match(/\{[a-z]+\}/g) ?? [];
          const fuzzed = slots[which % slots.length];
          const valid: Record<string, string> = { '{a}': articleId, '{s}': sourceId, '{r}': '0', '{q}': articleId, '{c}': articleId, '{slug}': 'topic-0', '{name}': 'topics' };
          const url = path.replace(/\{[a-z]+\}/g, (slot) => (slot === fuzzed ? encode(segment) : valid[slot]));
          const res = await (method === 'GET' ? t.http().get(url) : method === 'POST' ? t.http().post(url).send({}) : t.http().delete(url)).set(all);
          tally.record(`${method} ${path} (path fuzz)`, res.status, res.body?.type);
          expect(res.status).toBeLessThan(500);
          if (res.status >= 400) expectProblem(res);
        },
      ),
      { numRuns: FUZZ_RUNS * 4 },
    );
  });
});
