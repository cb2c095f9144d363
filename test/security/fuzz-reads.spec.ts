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

  /** Text PostgreSQL cannot store. */
  const poison = fc.constantFrom('\u0000', 'a\u0000', '\ud800', 'x\udc00y');
  /** A cursor's key: any JSON, numbers at and beyond the columns' ranges, poisoned text, broken id pairs. */
  const cursorKey = fc.oneof(
    fc.jsonValue({ maxDepth: 2 }),
    fc.maxSafeInteger(),
    fc.constantFrom(2 ** 31, 2 ** 53 - 1, -2, 1.5, '18446744073709551616', '-1', '007'),
    poison,
    fc.tuple(fc.oneof(fc.string(), poison), fc.oneof(fc.uuid(), fc.string(), poison)),
  );
  /** A value for a parameter: forged cursors for `cursor`, numbers near their limits, text of any kind for filters. */
  const valueFor = (param: string, kind: string | undefined): fc.Arbitrary<string> => {
    if (param === 'cursor')
      return fc.oneof({ weight: 4, arbitrary: cursorKey.map((key) => cursorOf([kind ?? 'articles', key])) }, { weight: 1, arbitrary: adversarialString.map((s) => s.slice(0, 2000)) });
    const numbers = fc.oneof(fc.constantFrom('0', '1', '200', '201', '-1', '1e2', '2147483648', '9999999999999999999999', ' 1'), fc.integer().map(String));
    if (['limit', 'from', 'to'].includes(param)) return fc.oneof(numbers, adversarialString.map((s) => s.slice(0, 2000)));
    const words = fc.constantFrom('draft', 'published', 'verified', 'none', 'topic-0', 'rita', 'ArticleDrafted', '2024-02-29', '2024-02-30', '2024-05-01T12:00:00Z', '2024-05-01T24:00:00Z');
    return fc.oneof(adversarialString.map((s) => s.slice(0, 2000)), poison, words);
  };
  const queryOf = (route: ReadRoute) =>
    fc.uniqueArray(fc.constantFrom(...route.params, 'unknown'), { maxLength: 3 }).chain((names) => fc.tuple(...names.map((name) => valueFor(name, route.cursorKind).map((value) => [name, value] as const))));

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
        queryOf(route),
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
      { numRuns: FUZZ_RUNS * 3, examples: [[[], null]] },
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
