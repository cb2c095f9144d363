import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import { startTestApp, TestApp } from '../support/app';
import { expectProblem, FUZZ_RUNS, FuzzTally, headerMutations, HeaderName, Mutation, mutate, mutations } from '../support/fuzz';

type Actor = 'reporter' | 'editor' | 'checker';

/** A write route: `prepare` makes, afresh for each case, the state in which its valid body succeeds. */
interface WriteRoute {
  name: string;
  method: 'post' | 'put' | 'delete';
  actor: Actor;
  keys: string[];
  prepare(): Promise<{ url: string; body?: Record<string, unknown> }>;
}

const BODY = 'A quote here, on the bridge.\n\nMore text about the bridge.';
const QUOTE = 'A quote here';

describe('adversarial requests on every write route, each against a state in which it can succeed', () => {
  let t: TestApp;
  const tally = new FuzzTally();
  const tokens: Record<Actor, string> = { reporter: '', editor: '', checker: '' };
  const as = (actor: Actor) => ({ authorization: `Bearer ${tokens[actor]}` });
  // Counted in the table itself: $all's visible head can lag behind a concurrent transaction elsewhere on the server.
  const eventCount = async () => Number((await t.runtime.pool.query('SELECT count(*) FROM events')).rows[0].count);

  async function ok(res: { status: number; body: Record<string, string> }): Promise<Record<string, string>> {
    if (res.status >= 300) throw new Error(`setup refused: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }
  const draft = async () => (await ok(await t.http().post('/articles').set(as('reporter')).send({ headline: 'Fuzz', body: BODY }))).id;
  const source = async () => (await ok(await t.http().post('/sources').set(as('reporter')).send({ name: 'Jane Doe', kind: 'person' }))).id;
  async function withQuote(): Promise<{ articleId: string; quoteId: string }> {
    const articleId = await draft();
    const { quoteId } = await ok(await t.http().post(`/articles/${articleId}/quotes`).set(as('reporter')).send({ text: QUOTE, speaker: 'Jane' }));
    return { articleId, quoteId };
  }
  async function inState(state: 'in_review' | 'approved' | 'published'): Promise<string> {
    const articleId = await draft();
    await ok(await t.http().post(`/articles/${articleId}/submission`).set(as('reporter')));
    if (state === 'in_review') return articleId;
    await ok(await t.http().post(`/articles/${articleId}/approval`).set(as('editor')));
    if (state === 'approved') return articleId;
    await ok(await t.http().post(`/articles/${articleId}/publication`).set(as('editor')));
    return articleId;
  }

  const ROUTES: WriteRoute[] = [
    { name: 'POST /articles', method: 'post', actor: 'reporter', keys: ['headline', 'body', 'byline', 'desk', 'id'], prepare: async () => ({ url: '/articles', body: { headline: 'H', body: BODY, byline: 'By', desk: 'D', id: randomUUID() } }) },
    { name: 'PUT /articles/{id}/headline', method: 'put', actor: 'reporter', keys: ['headline', 'reason'], prepare: async () => ({ url: `/articles/${await draft()}/headline`, body: { headline: 'H2', reason: 'r' } }) },
    { name: 'PUT /articles/{id}/body', method: 'put', actor: 'reporter', keys: ['body', 'reason'], prepare: async () => ({ url: `/articles/${await draft()}/body`, body: { body: 'A new body.', reason: 'r' } }) },
    { name: 'POST /articles/{id}/quotes', method: 'post', actor: 'reporter', keys: ['text', 'speaker', 'quoteId'], prepare: async () => ({ url: `/articles/${await draft()}/quotes`, body: { text: QUOTE, speaker: 'S', quoteId: randomUUID() } }) },
    {
      name: 'POST …/quotes/{quoteId}/attribution',
      method: 'post',
      actor: 'reporter',
      keys: ['sourceId', 'attribution', 'method'],
      prepare: async () => {
        const [{ articleId, quoteId }, sourceId] = await Promise.all([withQuote(), source()]);
        return { url: `/articles/${articleId}/quotes/${quoteId}/attribution`, body: { sourceId, attribution: 'told reporters', method: 'interview' } };
      },
    },
    {
      name: 'POST …/quotes/{quoteId}/withdrawal',
      method: 'post',
      actor: 'reporter',
      keys: ['reason'],
      prepare: async () => {
        const { articleId, quoteId } = await withQuote();
        return { url: `/articles/${articleId}/quotes/${quoteId}/withdrawal`, body: { reason: 'cut' } };
      },
    },
    { name: 'POST /articles/{id}/topics', method: 'post', actor: 'reporter', keys: ['topic'], prepare: async () => ({ url: `/articles/${await draft()}/topics`, body: { topic: 'Energy' } }) },
    {
      name: 'DELETE /articles/{id}/topics/{slug}',
      method: 'delete',
      actor: 'reporter',
      keys: [],
      prepare: async () => {
        const articleId = await draft();
        await ok(await t.http().post(`/articles/${articleId}/topics`).set(as('reporter')).send({ topic: 'Energy' }));
        return { url: `/articles/${articleId}/topics/energy` };
      },
    },
    {
      name: 'POST /articles/{id}/claims',
      method: 'post',
      actor: 'checker',
      keys: ['text', 'quoteId', 'claimId'],
      prepare: async () => {
        const { articleId, quoteId } = await withQuote();
        return { url: `/articles/${articleId}/claims`, body: { text: 'The bridge is safe', quoteId, claimId: randomUUID() } };
      },
    },
    {
      name: 'POST …/claims/{claimId}/verdict',
      method: 'post',
      actor: 'checker',
      keys: ['verdict', 'evidence', 'note'],
      prepare: async () => {
        const articleId = await draft();
        const { claimId } = await ok(await t.http().post(`/articles/${articleId}/claims`).set(as('checker')).send({ text: 'The bridge is safe' }));
        return { url: `/articles/${articleId}/claims/${claimId}/verdict`, body: { verdict: 'false', evidence: [{ url: 'https://example.org/report', note: 'Report' }], note: 'n' } };
      },
    },
    { name: 'POST /articles/{id}/submission', method: 'post', actor: 'reporter', keys: [], prepare: async () => ({ url: `/articles/${await draft()}/submission`, body: {} }) },
    { name: 'POST /articles/{id}/approval', method: 'post', actor: 'editor', keys: [], prepare: async () => ({ url: `/articles/${await inState('in_review')}/approval`, body: {} }) },
    { name: 'POST /articles/{id}/publication', method: 'post', actor: 'editor', keys: [], prepare: async () => ({ url: `/articles/${await inState('approved')}/publication`, body: {} }) },
    { name: 'POST /articles/{id}/retraction', method: 'post', actor: 'editor', keys: ['reason'], prepare: async () => ({ url: `/articles/${await inState('published')}/retraction`, body: { reason: 'Wrong bridge' } }) },
    { name: 'POST /articles/{id}/corrections', method: 'post', actor: 'editor', keys: ['text'], prepare: async () => ({ url: `/articles/${await inState('published')}/corrections`, body: { text: 'The bridge is in Ward 2.' } }) },
    { name: 'POST /sources', method: 'post', actor: 'reporter', keys: ['name', 'kind', 'title', 'organization', 'id'], prepare: async () => ({ url: '/sources', body: { name: 'N', kind: 'person', title: 'T', organization: 'O', id: randomUUID() } }) },
    { name: 'PUT /sources/{id}', method: 'put', actor: 'reporter', keys: ['name', 'title', 'organization'], prepare: async () => ({ url: `/sources/${await source()}`, body: { name: 'N2', title: 'T', organization: 'O' } }) },
  ];

  const WRITE_HEADERS: HeaderName[] = ['if-match', 'idempotency-key', 'x-correlation-id', 'authorization', 'content-type'];
  const special = () => ({
    'if-match': ['"0"', '*', 'W/"1"', '"-1"', '"99999999999999999999"', '"1"x', ''],
    'idempotency-key': ['k', 'x'.repeat(200), 'x'.repeat(201)],
    authorization: ['Bearer ', 'Bearer x.y.z', 'Basic YWRtaW46YWRtaW4=', `Bearer ${tokens.reporter}`, `Bearer ${tokens.editor}`, `Bearer ${tokens.checker}`],
    'content-type': ['text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=utf-8', 'application/json; charset=latin1', 'multipart/form-data; boundary=x', 'application/jsonx'],
  });

  beforeAll(async () => {
    t = await startTestApp({ env: { RATE_LIMIT_WRITES_PER_MINUTE: '100000000' } });
    tokens.reporter = t.token(['reporter'], 'fuzz-reporter', 'Rita Reporter');
    tokens.editor = t.token(['editor'], 'fuzz-editor', 'Ed Editor');
    tokens.checker = t.token(['fact_checker'], 'fuzz-checker', 'Fay Checker');
  });
  afterAll(async () => {
    process.stdout.write(tally.summary('Write routes fuzzed'));
    await t.close();
  });

  it.each(ROUTES.map((r) => [r.name, r] as const))('%s: never a 5xx; a refusal is problem+json and appends nothing; a 2xx is what the log holds', async (name, route) => {
    await fc.assert(
      fc.asyncProperty(mutations(route.keys), headerMutations(WRITE_HEADERS, special()), async (mutation: Mutation, header) => {
        const { url, body } = await route.prepare();
        const before = await eventCount();
        const sent = mutate(body, mutation);
        const raw = JSON.stringify(sent);
        let req = t.http()[route.method](url).set(as(route.actor));
        if (header) req = req.set(header.name, header.value);
        const res = await (raw === undefined ? req : header?.name === 'content-type' ? req.send(raw) : req.set('content-type', 'application/json').send(raw));
        const appended = (await eventCount()) - before;
        tally.record(name, res.status, res.body?.type, appended);
        expect(res.status).toBeLessThan(500);
        if (res.status >= 400) {
          expectProblem(res);
          expect(appended).toBe(0);
        } else {
          expect(res.headers['content-type']).toMatch(/^application\/json/);
          const stream = `${url.startsWith('/sources') ? 'source' : 'article'}-${res.body.id}`;
          const events = await t.runtime.eventStore.readStream(stream);
          expect(events[events.length - 1].revision).toBe(res.body.revision);
          expect(res.headers.etag).toBe(`"${res.body.revision}"`);
        }
      }),
      // The untouched body first: every route reaches the store at least once, whatever the random cases do.
      { numRuns: FUZZ_RUNS, examples: [[{ kind: 'none' }, null]] },
    );
    expect(tally.ok(name)).toBeGreaterThan(0);
  });

  it('names the field when text holds characters PostgreSQL cannot store', async () => {
    for (const [text, field] of [
      [{ headline: 'a\u0000b', body: 'B' }, 'headline'],
      [{ headline: 'H', body: 'x\ud800' }, 'body'],
    ] as const) {
      const res = await t.http().post('/articles').set(as('reporter')).send(text);
      expect(res.status).toBe(400);
      expect(res.body.errors).toContainEqual(expect.objectContaining({ field }));
    }
  });

  it('refuses bodies nested deeper than 32 levels with 400 before anything walks them', async () => {
    for (const key of [undefined, 'deep-key']) {
      const req = t.http().post('/articles').set(as('reporter')).set('content-type', 'application/json');
      const res = await (key ? req.set('idempotency-key', key) : req).send(`{"headline":${'['.repeat(5000)}1${']'.repeat(5000)},"body":"B"}`);
      expect([res.status, res.body.type]).toEqual([400, 'validation-failed']);
      expect(res.body.errors[0].field).toBe('(body)');
    }
  });

  it('stores SQL and HTML fragments as text, verbatim', async () => {
    const headline = "Robert'); DROP TABLE events;-- <img src=x onerror=alert(1)>";
    const res = await t.http().post('/articles').set(as('reporter')).send({ headline, body: 'B' });
    expect(res.status).toBe(201);
    const [event] = await t.runtime.eventStore.readStream(`article-${res.body.id}`);
    expect(event.data.headline).toBe(headline);
  });
});
