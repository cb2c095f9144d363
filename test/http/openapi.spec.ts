import SwaggerParser from '@apidevtools/swagger-parser';
import { randomUUID } from 'node:crypto';
import type { Response } from 'supertest';
import { requestHash } from '../../src/http/idempotency.interceptor';
import { Role } from '../../src/newsroom/actor';
import { startTestApp, TestApp } from '../support/app';
import { EsdbTestServer, startEsdbTestServer } from '../support/esdb-test-server';
import { ContractChecker, DocumentedOperation, OpenApiDocument, registeredRoutes, routeKey } from '../support/openapi-contract';

/*
 * The OpenAPI document against the application's real answers. Every answer any step below gets is
 * checked against the document (status documented for the operation, media type, body against the
 * schema with no undocumented field, headers, problem type listed); the last spec then names every
 * status and problem type the document promises that no answer showed.
 */

const ALL_ROLES: Role[] = ['reporter', 'editor', 'fact_checker', 'admin'];
const ROLES: Record<string, Role[]> = { rita: ['reporter'], ed: ['editor'], eve: ['editor'], fay: ['fact_checker'], ada: ['admin'], nobody: [] };

const BODY = 'The council voted to close the bridge.\n\nThe mayor said “it’s time to rebuild” on Tuesday, and “we will be quick” later.';

/** Problem types the document lists that this spec does not provoke, and the spec that does. */
const PROVED_ELSEWHERE: { type: string; on: (o: DocumentedOperation) => boolean; why: string }[] = [
  { type: 'concurrency-conflict', on: () => true, why: 'a command losing its race ten times: test/http/concurrency.spec.ts' },
  { type: 'store-unavailable', on: (o) => isReadModelQuery(o), why: 'PostgreSQL stopped: test/reliability/store-outages.spec.ts' },
];

/** A query that waits for the read models: with the event store down it still answers. */
const isReadModelQuery = (o: DocumentedOperation) => o.op.responses['503']?.description.includes('projection-lagging') ?? false;

interface Call {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  /** The actor: a key of ROLES, or anyone else with every role; null: no token. */
  as?: string | null;
  body?: unknown;
  raw?: { type: string; text: string };
  headers?: Record<string, string>;
  /** Idempotency-Key; a fresh one for every write unless given, none when null. */
  key?: string | null;
}

describe('the OpenAPI document', () => {
  let t: TestApp;
  let doc: OpenApiDocument;
  let contract: ContractChecker;
  /** The first 2xx call of each operation: generic provocations start from a request that works. */
  const worked = new Map<string, Call>();
  let last = '0';

  async function send(app: TestApp, call: Call): Promise<Response> {
    const { method, path, as = 'rita', body, raw, headers = {} } = call;
    const key = call.key === undefined && method !== 'GET' ? randomUUID() : call.key;
    let request = app.http()[method.toLowerCase() as 'get'](path);
    if (as !== null) request = request.set('authorization', `Bearer ${app.token(ROLES[as] ?? ALL_ROLES, as, `Test ${as}`)}`);
    if (key) request = request.set('idempotency-key', key);
    for (const [name, value] of Object.entries(headers)) request = request.set(name, value);
    const res = await (raw ? request.set('content-type', raw.type).send(raw.text) : body !== undefined ? request.send(body as object) : request);
    contract.check(method, path, res);
    const found = contract.find(method, path);
    if (res.status < 300 && found && !worked.has(found.operation.op.operationId)) worked.set(found.operation.op.operationId, { ...call, key });
    if (res.status < 300 && typeof res.body?.position === 'string' && method !== 'GET' && BigInt(res.body.position) > BigInt(last)) last = res.body.position;
    return res;
  }
  const go = (call: Call) => send(t, call);
  const write = async (call: Call, status: number) => {
    const res = await go(call);
    expect([call.method, call.path, res.status]).toEqual([call.method, call.path, status]);
    return res;
  };
  const refused = async (call: Call, status: number, type: string) => {
    const res = await go(call);
    expect([call.method, call.path, res.status, res.body.type]).toEqual([call.method, call.path, status, type]);
    return res;
  };
  const fresh = () => ({ headers: { 'x-wait-for-position': last } });

  beforeAll(async () => {
    t = await startTestApp();
    doc = (await t.http().get('/docs/openapi.json')).body;
    contract = new ContractChecker(doc);
  });
  afterAll(() => t?.close());
  afterEach(() => expect(contract.takeFailures()).toEqual([]));

  it('is a valid OpenAPI 3.0 document, every reference resolved', async () => {
    expect(doc.openapi).toMatch(/^3\.0\.\d+$/);
    await expect(SwaggerParser.validate(structuredClone(doc) as never)).resolves.toBeDefined();
  });

  it('names every route the application routes (but HEAD, which Fastify adds to each GET, /docs itself and the desk HTML pages under /desk), each with a summary and a unique operationId; and no other', () => {
    const routed = registeredRoutes(t.app.getHttpAdapter().getInstance().printRoutes({ commonPrefix: false }))
      .filter((r) => r.method !== 'HEAD' && !r.path.startsWith('/docs') && r.path !== '/desk' && !r.path.startsWith('/desk/'))
      .map((r) => routeKey(r.method, r.path));
    const documented = contract.operations.map((o) => routeKey(o.method, o.path));
    expect(routed.length).toBeGreaterThanOrEqual(33);
    expect([...documented].sort()).toEqual([...new Set(routed)].sort());
    expect(contract.operations.filter((o) => !o.op.summary?.trim()).map((o) => o.op.operationId)).toEqual([]);
    const ids = contract.operations.map((o) => o.op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
  });

  let source = '';
  let article = '';
  let quote = '';
  let claim = '';
  let retracted = '';

  it('writes: sources, the editorial flow, and the refusals each command documents', async () => {
    source = (await write({ method: 'POST', path: '/sources', body: { name: 'Jane Doe', kind: 'person', title: 'Mayor' } }, 201)).body.id;
    await refused({ method: 'POST', path: '/sources', body: { id: source, name: 'Jane Doe', kind: 'person' } }, 409, 'source-exists');
    await write({ method: 'PUT', path: `/sources/${source}`, body: { title: 'Former mayor' } }, 200);
    await write({ method: 'PUT', path: `/sources/${source}`, body: { title: 'Former mayor' } }, 200);
    await refused({ method: 'PUT', path: `/sources/${source}`, body: {} }, 400, 'validation-failed');

    const drafted = await write({ method: 'POST', path: '/articles', body: { headline: 'Bridge to close', body: BODY, byline: 'Rita' } }, 201);
    article = drafted.body.id;
    expect(drafted.headers.location).toBe(`/articles/${article}`);
    const A = `/articles/${article}`;
    await refused({ method: 'POST', path: '/articles', body: { id: article, headline: 'Again', body: BODY } }, 409, 'article-exists');
    await write({ method: 'PUT', path: `${A}/headline`, body: { headline: 'Bridge to close for a year' } }, 200);
    await write({ method: 'PUT', path: `${A}/body`, body: { body: `${BODY}\n\nEngineers agree.` } }, 200);
    quote = (await write({ method: 'POST', path: `${A}/quotes`, body: { text: 'it’s time to rebuild', speaker: 'Jane Doe' } }, 201)).body.quoteId;
    const hint = await refused({ method: 'POST', path: `${A}/quotes`, body: { text: "it's time to rebuild", speaker: 'Jane Doe' } }, 422, 'quote-not-in-body');
    expect(hint.body.hint).toMatchObject({ kind: 'typographic-look-alikes', bodyText: 'it’s time to rebuild' });
    await refused({ method: 'POST', path: `${A}/quotes`, body: { quoteId: quote, text: 'it’s time to rebuild', speaker: 'Jane Doe' } }, 409, 'quote-exists');
    const second = (await write({ method: 'POST', path: `${A}/quotes`, body: { text: 'we will be quick', speaker: 'Jane Doe' } }, 201)).body.quoteId;
    const attribution = { sourceId: source, method: 'interview', attribution: 'told reporters' };
    await write({ method: 'POST', path: `${A}/quotes/${quote}/attribution`, body: attribution }, 200);
    await write({ method: 'POST', path: `${A}/quotes/${quote}/attribution`, body: attribution }, 200);
    await refused({ method: 'POST', path: `${A}/quotes/${quote}/attribution`, body: { ...attribution, sourceId: randomUUID() } }, 422, 'unknown-source');
    await write({ method: 'POST', path: `${A}/quotes/${second}/withdrawal`, body: { reason: 'Not said on the record' } }, 200);
    await refused({ method: 'POST', path: `${A}/quotes/${second}/withdrawal`, body: { reason: 'Again' } }, 409, 'quote-withdrawn');
    await refused({ method: 'POST', path: `${A}/quotes/${second}/attribution`, body: attribution }, 409, 'quote-withdrawn');
    await write({ method: 'POST', path: `${A}/topics`, body: { topic: 'Local Infrastructure' } }, 201);
    await write({ method: 'POST', path: `${A}/topics`, body: { topic: 'Local Infrastructure' } }, 200);
    await write({ method: 'POST', path: `${A}/topics`, body: { topic: 'Elections' } }, 201);
    await write({ method: 'DELETE', path: `${A}/topics/elections` }, 200);
    await refused({ method: 'DELETE', path: `${A}/topics/elections` }, 404, 'topic-not-tagged');
    claim = (await write({ method: 'POST', path: `${A}/claims`, as: 'fay', body: { text: 'The council voted to close the bridge', quoteId: quote } }, 201)).body.claimId;
    await refused({ method: 'POST', path: `${A}/claims`, as: 'fay', body: { text: 'Another', quoteId: randomUUID() } }, 422, 'unknown-quote');
    await refused({ method: 'POST', path: `${A}/claims`, as: 'fay', body: { text: 'Again', claimId: claim } }, 409, 'claim-exists');
    const verdict = { verdict: 'verified', evidence: [{ url: 'https://example.org/minutes', note: 'Council minutes' }] };
    await write({ method: 'POST', path: `${A}/claims/${claim}/verdict`, as: 'fay', body: verdict }, 200);
    await write({ method: 'POST', path: `${A}/submission` }, 200);
    await refused({ method: 'POST', path: `${A}/submission` }, 409, 'invalid-transition');
    await write({ method: 'POST', path: `${A}/approval`, as: 'ed' }, 200);
    await write({ method: 'POST', path: `${A}/publication`, as: 'ed', body: {} }, 200);
    await write({ method: 'POST', path: `${A}/corrections`, as: 'ed', body: { text: 'An earlier version misnamed the bridge.' } }, 201);

    // Live copy: an editor's, with a reason, keeping the publish gate.
    await refused({ method: 'PUT', path: `${A}/headline`, body: { headline: 'Changed' } }, 403, 'forbidden');
    await refused({ method: 'PUT', path: `${A}/headline`, as: 'ed', body: { headline: 'Changed' } }, 422, 'reason-required');
    await refused({ method: 'PUT', path: `${A}/body`, as: 'ed', body: { body: 'All new.', reason: 'Rewrite' } }, 409, 'publish-blocked');
    await refused({ method: 'PUT', path: `${A}/body`, as: 'ed', body: { body: `${BODY}\n\nMore.` } }, 422, 'reason-required');
    await refused({ method: 'POST', path: `${A}/quotes/${quote}/attribution`, as: 'ed', body: { ...attribution, method: 'statement' } }, 422, 'reason-required');
    await refused({ method: 'POST', path: `${A}/quotes`, as: 'ed', body: { text: 'we will be quick', speaker: 'Jane Doe' } }, 409, 'publish-blocked');
    await refused({ method: 'POST', path: `${A}/claims`, as: 'ed', body: { text: 'A new claim' } }, 409, 'publish-blocked');

    // Review: four eyes and the publish gate.
    const B = `/articles/${(await write({ method: 'POST', path: '/articles', as: 'eve', body: { headline: 'Budget', body: BODY } }, 201)).body.id}`;
    await write({ method: 'POST', path: `${B}/quotes`, as: 'eve', body: { text: 'we will be quick', speaker: 'Jane Doe' } }, 201);
    await write({ method: 'POST', path: `${B}/submission`, as: 'eve' }, 200);
    await refused({ method: 'POST', path: `${B}/approval`, as: 'eve' }, 403, 'four-eyes');
    await write({ method: 'POST', path: `${B}/approval`, as: 'ed' }, 200);
    const blocked = await refused({ method: 'POST', path: `${B}/publication`, as: 'ed' }, 409, 'publish-blocked');
    expect(blocked.body.blockers).toEqual([expect.objectContaining({ kind: 'quote-unattributed' })]);

    // A draft: nothing but submission moves it.
    const C = `/articles/${(await write({ method: 'POST', path: '/articles', body: { headline: 'Draft', body: BODY } }, 201)).body.id}`;
    for (const step of ['approval', 'publication', 'retraction', 'corrections'])
      await refused({ method: 'POST', path: `${C}/${step}`, as: 'ed', body: step === 'retraction' ? { reason: 'No' } : step === 'corrections' ? { text: 'No' } : undefined }, 409, 'invalid-transition');

    retracted = (await write({ method: 'POST', path: '/articles', body: { headline: 'Retract me', body: BODY } }, 201)).body.id;
    const R = `/articles/${retracted}`;
    await write({ method: 'POST', path: `${R}/submission` }, 200);
    await write({ method: 'POST', path: `${R}/approval`, as: 'ed' }, 200);
    await write({ method: 'POST', path: `${R}/publication`, as: 'ed' }, 200);
    await write({ method: 'POST', path: `${R}/retraction`, as: 'ed', body: { reason: 'Wrong bridge' } }, 200);
  });

  it('reads: every query, with items to check, and its refusals', async () => {
    const A = `/articles/${article}`;
    for (const path of ['/articles', A, `${A}/claims`, `${A}/history`, '/claims', '/audit', '/sources', `/sources/${source}`, `/sources/${source}/quotes`, '/topics']) {
      const res = await go({ method: 'GET', path, ...fresh() });
      expect([path, res.status]).toEqual([path, 200]);
      if ('items' in res.body) expect([path, res.body.items.length > 0]).toEqual([path, true]);
    }
    expect((await go({ method: 'GET', path: `${A}/revisions/0` })).body.status).toBe('draft');
    const diff = await go({ method: 'GET', path: `${A}/diff` });
    expect(diff.body).toMatchObject({ headline: { before: 'Bridge to close' }, bodyDiff: 'lines', status: { before: 'draft', after: 'published' } });
    expect(diff.body.claims.verdicts).toHaveLength(1);
    expect((await go({ method: 'GET', path: `${A}/audit/verify` })).body).toMatchObject({ valid: true, firstBreak: null });
    expect((await go({ method: 'GET', path: `${A}/ninjs` })).body).toMatchObject({ pubstatus: 'usable', subjects: [{ literal: 'local-infrastructure' }] });
    expect((await go({ method: 'GET', path: `${A}/ninjs?revision=0` })).body).toMatchObject({ version: '0', pubstatus: 'withheld' });
    expect((await go({ method: 'GET', path: `${A}/claim-reviews` })).body).toEqual([expect.objectContaining({ '@type': 'ClaimReview', claimReviewed: 'The council voted to close the bridge' })]);
    await refused({ method: 'GET', path: `${A}/ninjs?revision=999` }, 404, 'revision-not-found');

    // Webhooks (admin): this app does not allow private destinations; a public address is not looked up.
    const hook = (await write({ method: 'POST', path: '/admin/webhooks', as: 'ada', body: { url: 'https://93.184.215.14/hook', events: ['ArticlePublished'] } }, 201)).body;
    expect(hook.secret).toMatch(/^whsec_/);
    await refused({ method: 'POST', path: '/admin/webhooks', as: 'ada', body: { url: 'http://127.0.0.1/hook', events: ['*'] } }, 422, 'webhook-destination-refused');
    expect((await go({ method: 'GET', path: '/admin/webhooks', as: 'ada' })).body.items).toEqual([expect.objectContaining({ id: hook.id })]);
    expect((await go({ method: 'GET', path: `/admin/webhooks/${hook.id}`, as: 'ada' })).body).toMatchObject({ id: hook.id, events: ['ArticlePublished'] });
    expect((await go({ method: 'GET', path: `/admin/webhooks/${hook.id}/deliveries`, as: 'ada' })).status).toBe(200);
    const doomed = (await write({ method: 'POST', path: '/admin/webhooks', as: 'ada', body: { url: 'https://93.184.215.14/other', events: ['*'] } }, 201)).body;
    await write({ method: 'DELETE', path: `/admin/webhooks/${doomed.id}`, as: 'ada' }, 200);
    for (const path of ['/admin/webhooks?limit=0', `/admin/webhooks/${hook.id}/deliveries?cursor=nonsense`]) await refused({ method: 'GET', path, as: 'ada' }, 400, 'validation-failed');
    expect((await go({ method: 'GET', path: '/health', as: null })).body.status).toBe('ok');
    expect((await go({ method: 'GET', path: '/metrics', as: null })).text).toMatch(/^copydesk_commands_total\{command="DraftArticle",outcome="ok"\} \d+$/m);
    expect((await go({ method: 'GET', path: '/admin/projections', as: 'ada' })).body.items.length).toBeGreaterThan(0);
    expect((await go({ method: 'POST', path: '/admin/projections/sources/rebuild', as: 'ada' })).status).toBe(202);
    expect((await go({ method: 'GET', path: '/admin/projections', as: 'ada' })).status).toBe(200);

    await refused({ method: 'GET', path: `${A}/diff?to=999` }, 404, 'revision-not-found');
    for (const path of ['/articles?status=lost', `${A}/claims?verdict=maybe`, '/audit?since=2024-02-30', `${A}/revisions/first`, `${A}/diff?from=5&to=1`, '/topics?limit=0', `${A}/ninjs?revision=first`])
      await refused({ method: 'GET', path }, 400, 'validation-failed');
  });

  it('every operation: no token, a role it does not take, malformed headers and bodies, too large, not JSON, a path naming nothing', async () => {
    const MISSING: Record<string, () => string> = { id: randomUUID, quoteId: randomUUID, claimId: randomUUID, revision: () => '999999', slug: () => 'no-such-topic', name: () => 'no_such_projection' };
    for (const { method, path, op } of contract.operations) {
      const base = worked.get(op.operationId);
      if (!base) throw new Error(`no request of ${op.operationId} succeeded above`);
      const at = contract.find(method, base.path)!.params;
      const documents = (status: number) => String(status) in op.responses;
      const again = (over: Partial<Call>) => go({ ...base, key: undefined, ...over });
      if (documents(401)) await again({ as: null });
      if (documents(403)) await again({ as: 'nobody' });
      if (method === 'GET' && op.parameters?.some((p) => p.name === 'X-Wait-For-Position')) await again({ headers: { 'x-wait-for-position': 'soon' } });
      if (method !== 'GET') {
        await again({ raw: { type: 'application/json', text: '{"headline":' } });
        await again({ key: 'k'.repeat(201) });
        if (documents(413)) await again({ raw: { type: 'application/json', text: `{"x":"${'a'.repeat(1024 * 1024 - 7)}"}` } });
        if (documents(415)) await again({ raw: { type: 'text/plain', text: 'hello' } });
        if (documents(412)) await again({ headers: { 'if-match': '"999999"' } });
        await again({ headers: { ...base.headers, 'if-match': 'soon' } });
      }
      for (const name of Object.keys(at)) await again({ path: path.replace(/\{([^}]+)\}/g, (_, n: string) => encodeURIComponent(n === name ? MISSING[n]() : at[n])) });
    }
  }, 60000);

  it('writes with an Idempotency-Key: replayed as first answered, 422 with another request; on a retracted article, 409', async () => {
    for (const { method, path, op } of contract.operations.filter((o) => o.method !== 'GET')) {
      const base = worked.get(op.operationId)!;
      const replay = await go(base);
      expect([op.operationId, replay.headers['idempotent-replayed']]).toEqual([op.operationId, 'true']);
      await refused({ ...base, path: `${base.path}?again=1` }, 422, 'idempotency-key-reused');
      if (path.startsWith('/articles/{id}')) {
        const at = contract.find(method, base.path)!.params;
        await refused({ ...base, key: undefined, path: path.replace(/\{([^}]+)\}/g, (_, n: string) => (n === 'id' ? retracted : at[n])) }, 409, 'article-retracted');
      }
    }
  });

  it('a key held by a request still running: 409 with Retry-After; a read past the projections: 503 with Retry-After (each after its 5 s wait, all at once)', async () => {
    const held = contract.operations
      .filter((o) => o.method !== 'GET')
      .map(async ({ op }) => {
        const base = worked.get(op.operationId)!;
        const key = `held-${op.operationId}`;
        const body = base.body ?? undefined;
        await t.runtime.pool.query(
          `INSERT INTO idempotency_keys (actor_id, key, request_hash, owner, lease_until) VALUES ($1, $2, $3, $4, now() + interval '1 minute')`,
          [base.as ?? 'rita', key, requestHash(base.method, base.path, body), randomUUID()],
        );
        return refused({ ...base, key }, 409, 'idempotency-key-in-flight');
      });
    const lagging = contract.operations
      .filter((o) => o.method === 'GET' && o.op.responses['503']?.description.includes('projection-lagging'))
      .map(({ op }) => refused({ ...worked.get(op.operationId)!, headers: { 'x-wait-for-position': '99999999999999999999' } }, 503, 'projection-lagging'));
    await Promise.all([...held, ...lagging]);
  }, 30000);

  describe('on EventStoreDB, one write a minute', () => {
    let esdb: EsdbTestServer;
    let limited: TestApp;
    beforeAll(async () => {
      esdb = await startEsdbTestServer({ port: 0 });
      limited = await startTestApp({ eventStoreConnectionString: esdb.connectionString, env: { RATE_LIMIT_WRITES_PER_MINUTE: '1' } });
    });
    afterAll(async () => {
      await limited?.close();
      await esdb?.stop();
    });

    it('the second write of an actor in a minute: 429 with Retry-After', async () => {
      for (const { op } of contract.operations.filter((o) => o.method !== 'GET')) {
        const base = { ...worked.get(op.operationId)!, as: `limit-${op.operationId}`, key: undefined };
        await send(limited, base);
        const res = await send(limited, base);
        expect([op.operationId, res.status, res.body.type]).toEqual([op.operationId, 429, 'rate-limited']);
      }
    });

    it('with the event store down: 503 with Retry-After from every route that needs it', async () => {
      await esdb.stop();
      const down = contract.operations.filter((o) => o.op.responses['503'] && !isReadModelQuery(o));
      const answers = await Promise.all(down.map(({ op }) => send(limited, { ...worked.get(op.operationId)!, as: `down-${op.operationId}`, key: undefined })));
      expect(answers.map((a, i) => [down[i].op.operationId, a.status])).toEqual(down.map((o) => [o.op.operationId, 503]));
    }, 30000);
  });

  it('every status and problem type the document lists was answered above (or is proved by the spec named)', () => {
    const unproved = contract.unobserved().filter((missing) => {
      const [operationId, , type] = missing.split(' ');
      const operation = contract.operations.find((o) => o.op.operationId === operationId)!;
      return !PROVED_ELSEWHERE.some((p) => p.type === type && p.on(operation));
    });
    expect(unproved).toEqual([]);
  });
});
