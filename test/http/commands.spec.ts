import { randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { Role } from '../../src/newsroom/actor';
import { startTestApp, TestApp, TEST_SECRET } from '../support/app';
import { EVENT_STORES, startEventStore, StoreFixture } from '../support/event-stores';

const BODY = [
  'The council voted on Tuesday to close the old bridge.',
  'The mayor said “we will rebuild it — stronger than before…” at the meeting.',
  'Engineers warned the span had been unsafe for years.',
].join('\n\n');
const QUOTE = 'we will rebuild it — stronger than before…';

describe.each(EVENT_STORES)('HTTP commands, events in %s', (kind) => {
  let t: TestApp;
  let store: StoreFixture;
  const auth = (roles: Role[], id?: string) => ({ authorization: `Bearer ${t.token(roles, id)}` });
  const reporter = () => auth(['reporter'], 'reporter-1');
  const editor = () => auth(['editor'], 'editor-1');
  const otherEditor = () => auth(['editor'], 'editor-2');
  const checker = () => auth(['fact_checker'], 'checker-1');

  async function draft(extra: Record<string, unknown> = {}) {
    const res = await t.http().post('/articles').set(reporter()).send({ headline: 'Bridge closes', body: BODY, ...extra });
    expect(res.status).toBe(201);
    return res.body.id as string;
  }
  async function events(articleId: string) {
    return t.runtime.eventStore.readStream(`article-${articleId}`);
  }
  async function registerSource(name = 'Jane Doe') {
    const res = await t.http().post('/sources').set(reporter()).send({ name, kind: 'person', title: 'Mayor', organization: 'City Council' });
    expect(res.status).toBe(201);
    return res.body.id as string;
  }

  beforeAll(async () => {
    store = await startEventStore(kind);
    t = await startTestApp({ eventStoreConnectionString: store.eventStoreConnectionString });
  });
  afterAll(async () => {
    await t?.close();
    await store?.stop();
  });

  describe('the whole editorial flow', () => {
    it('drafts, quotes, attributes, tags, claims, checks, submits, approves, publishes, corrects and retracts', async () => {
      const sourceId = await registerSource();
      const id = await draft({ byline: 'A. Reporter', desk: 'City' });

      const quote = await t.http().post(`/articles/${id}/quotes`).set(reporter()).send({ text: QUOTE, speaker: 'Mayor Jane Doe' });
      expect(quote.status).toBe(201);
      expect(quote.body).toMatchObject({ id, revision: 1, quoteId: expect.any(String), position: expect.stringMatching(/^\d+$/) });
      const { quoteId } = quote.body;

      const attributed = await t
        .http()
        .post(`/articles/${id}/quotes/${quoteId}/attribution`)
        .set(reporter())
        .send({ sourceId, attribution: 'told reporters', method: 'press_briefing' });
      expect(attributed.status).toBe(200);
      expect(BigInt(attributed.body.position)).toBeGreaterThan(BigInt(quote.body.position));

      expect((await t.http().post(`/articles/${id}/topics`).set(reporter()).send({ topic: 'Local Infrastructure' })).status).toBe(201);
      const claim = await t.http().post(`/articles/${id}/claims`).set(checker()).send({ text: 'The span was unsafe for years', quoteId });
      expect(claim.status).toBe(201);
      const verdict = await t
        .http()
        .post(`/articles/${id}/claims/${claim.body.claimId}/verdict`)
        .set(checker())
        .send({ verdict: 'verified', evidence: [{ url: 'https://example.org/report.pdf', note: '2019 inspection report' }] });
      expect(verdict.status).toBe(200);

      expect((await t.http().post(`/articles/${id}/submission`).set(reporter())).status).toBe(200);
      expect((await t.http().post(`/articles/${id}/approval`).set(editor())).status).toBe(200);
      const published = await t.http().post(`/articles/${id}/publication`).set(editor());
      expect(published.status).toBe(200);
      const corrected = await t.http().post(`/articles/${id}/corrections`).set(editor()).send({ text: 'An earlier version misnamed the bridge.' });
      expect(corrected.status).toBe(201);

      const article = await t.http().get(`/articles/${id}`).set(reporter()).set('x-wait-for-position', corrected.body.position);
      expect(article.status).toBe(200);
      expect(article.headers.etag).toBe(`"${article.body.revision}"`);
      expect(article.body).toMatchObject({
        status: 'published',
        byline: 'A. Reporter',
        desk: 'City',
        quotes: [{ id: quoteId, status: 'attributed', inBody: true, paragraph: 1, source: { id: sourceId, name: 'Jane Doe' }, method: 'press_briefing' }],
        topics: [{ slug: 'local-infrastructure', label: 'Local Infrastructure' }],
        claims: [{ verdict: 'verified', checkedBy: { id: 'checker-1' } }],
        corrections: [{ text: 'An earlier version misnamed the bridge.', issuedBy: { id: 'editor-1' } }],
      });
      expect(article.body.publishedAt).toEqual(expect.any(String));

      const retracted = await t.http().post(`/articles/${id}/retraction`).set(editor()).send({ reason: 'Sourcing failed review' });
      expect(retracted.status).toBe(200);

      const log = await events(id);
      expect(log.map((e) => e.type)).toEqual([
        'ArticleDrafted',
        'QuoteAdded',
        'SourceAttributed',
        'TopicTagged',
        'ClaimRecorded',
        'ClaimVerdictRecorded',
        'ArticleSubmitted',
        'ArticleApproved',
        'ArticlePublished',
        'CorrectionIssued',
        'ArticleRetracted',
      ]);
      expect(log[10].metadata).toMatchObject({
        actor: { id: 'editor-1', roles: ['editor'] },
        reason: 'Sourcing failed review',
        schemaVersion: 1,
        commandId: expect.any(String),
        correlationId: expect.any(String),
        causationId: expect.any(String),
      });
      expect(Number.isNaN(Date.parse(log[10].metadata.occurredAt as string))).toBe(false);
    });

    it('records the token identity as the actor, never one from the body', async () => {
      const res = await t.http().post('/articles').set(reporter()).send({ headline: 'H', body: 'B', actor: { id: 'someone-else' } });
      expect(res.status).toBe(400);
      expect(res.body.errors).toContainEqual({ field: 'actor', message: 'property actor should not exist' });
      const id = await draft();
      expect((await events(id))[0].metadata.actor).toEqual({ id: 'reporter-1', name: 'Test reporter', roles: ['reporter'] });
    });
  });

  describe('validation (400, problem+json naming the field, nothing appended)', () => {
    it.each([
      ['an empty headline', { headline: '', body: 'B' }, 'headline'],
      ['a headline of 301 characters', { headline: 'x'.repeat(301), body: 'B' }, 'headline'],
      ['a body of 100001 characters', { headline: 'H', body: 'x'.repeat(100001) }, 'body'],
      ['a byline of 201 characters', { headline: 'H', body: 'B', byline: 'x'.repeat(201) }, 'byline'],
      ['a desk of 101 characters', { headline: 'H', body: 'B', desk: 'x'.repeat(101) }, 'desk'],
      ['an id that is not a uuid', { headline: 'H', body: 'B', id: 'abc' }, 'id'],
      ['a body that is a number', { headline: 'H', body: 42 }, 'body'],
      ['a NUL character', { headline: 'H\u0000', body: 'B' }, 'headline'],
      ['a lone surrogate', { headline: 'H', body: 'B \ud800 x' }, 'body'],
    ])('refuses %s', async (_, body, field) => {
      const res = await t.http().post('/articles').set(reporter()).send(body);
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body).toMatchObject({ type: 'validation-failed', status: 400, title: expect.any(String), detail: expect.any(String) });
      expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    });

    it('accepts the exact limits', async () => {
      const res = await t.http().post('/articles').set(reporter()).send({ headline: 'x'.repeat(300), body: 'y'.repeat(100000), byline: 'b'.repeat(200), desk: 'd'.repeat(100) });
      expect(res.status).toBe(201);
    });

    it('validates every write route', async () => {
      const id = await draft();
      const quoteId = randomUUID();
      const cases: [string, string, object, string, Record<string, string>][] = [
        ['put', `/articles/${id}/headline`, { headline: '' }, 'headline', reporter()],
        ['put', `/articles/${id}/headline`, { headline: 'ok', reason: 'r'.repeat(501) }, 'reason', reporter()],
        ['put', `/articles/${id}/body`, {}, 'body', reporter()],
        ['post', `/articles/${id}/quotes`, { text: 'x'.repeat(5001), speaker: 'S' }, 'text', reporter()],
        ['post', `/articles/${id}/quotes`, { text: 'T', speaker: '' }, 'speaker', reporter()],
        ['post', `/articles/${id}/quotes/${quoteId}/attribution`, { sourceId: 'nope', method: 'interview' }, 'sourceId', reporter()],
        ['post', `/articles/${id}/quotes/${quoteId}/attribution`, { sourceId: randomUUID(), method: 'rumour' }, 'method', reporter()],
        ['post', `/articles/${id}/quotes/${quoteId}/attribution`, { sourceId: randomUUID(), method: 'wire', attribution: 'a'.repeat(301) }, 'attribution', reporter()],
        ['post', `/articles/${id}/quotes/${quoteId}/withdrawal`, { reason: '' }, 'reason', reporter()],
        ['post', `/articles/${id}/topics`, { topic: '—— !!' }, 'topic', reporter()],
        ['post', `/articles/${id}/topics`, { topic: 't'.repeat(101) }, 'topic', reporter()],
        ['post', `/articles/${id}/claims`, { text: 'c'.repeat(2001) }, 'text', checker()],
        ['post', `/articles/${id}/claims/${randomUUID()}/verdict`, { verdict: 'probably', evidence: [] }, 'verdict', checker()],
        ['post', `/articles/${id}/claims/${randomUUID()}/verdict`, { verdict: 'false', evidence: [] }, 'evidence', checker()],
        ['post', `/articles/${id}/claims/${randomUUID()}/verdict`, { verdict: 'false', evidence: [{ url: 'ftp://x.org/a', note: 'n' }] }, 'evidence.0.url', checker()],
        ['post', `/articles/${id}/claims/${randomUUID()}/verdict`, { verdict: 'false', evidence: [{ note: '' }] }, 'evidence.0.note', checker()],
        ['post', `/articles/${id}/retraction`, {}, 'reason', editor()],
        ['post', `/articles/${id}/corrections`, { text: '' }, 'text', editor()],
        ['post', `/articles/${id}/submission`, { force: true }, 'force', reporter()],
        ['post', '/sources', { name: 'N', kind: 'alien' }, 'kind', reporter()],
        ['post', '/sources', { kind: 'person' }, 'name', reporter()],
        ['put', `/sources/${randomUUID()}`, {}, '(body)', reporter()],
        ['put', `/sources/${randomUUID()}`, { name: '' }, 'name', reporter()],
      ];
      for (const [method, url, body, field, headers] of cases) {
        const res = await (t.http() as any)[method](url).set(headers).send(body);
        expect({ url, body, status: res.status, type: res.body.type }).toEqual({ url, body, status: 400, type: 'validation-failed' });
        expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
      }
      expect(await events(id)).toHaveLength(1);
    });

    it('refuses a body that is not a JSON object, malformed JSON and bodies over 1 MiB', async () => {
      const array = await t.http().post('/articles').set(reporter()).send([1, 2]);
      expect(array.status).toBe(400);
      const malformed = await t.http().post('/articles').set(reporter()).set('content-type', 'application/json').send('{"headline":');
      expect(malformed.status).toBe(400);
      expect(malformed.body.type).toBe('malformed-json');
      const huge = await t.http().post('/articles').set(reporter()).set('content-type', 'application/json').send(JSON.stringify({ headline: 'H', body: 'x'.repeat(1024 * 1024) }));
      expect(huge.status).toBe(413);
      expect(huge.body.type).toBe('payload-too-large');
    });
  });

  describe('authentication and roles', () => {
    it('answers 401 without a token, with a bad signature, expired, or alg none', async () => {
      const sub = { sub: 'u', name: 'U', roles: ['reporter'] };
      const tokens = [
        undefined,
        'Bearer not-a-jwt',
        `Bearer ${jwt.sign(sub, 'another-secret', { algorithm: 'HS256' })}`,
        `Bearer ${jwt.sign({ ...sub, exp: Math.floor(Date.now() / 1000) - 60 }, TEST_SECRET, { algorithm: 'HS256' })}`,
        `Bearer ${jwt.sign(sub, '', { algorithm: 'none' } as jwt.SignOptions)}`,
        `Bearer ${jwt.sign({ sub: 'u', name: 'U', roles: ['superuser'] }, TEST_SECRET, { algorithm: 'HS256' })}`,
      ];
      for (const token of tokens) {
        const req = t.http().post('/articles');
        const res = await (token ? req.set('authorization', token) : req).send({ headline: 'H', body: 'B' });
        expect({ token, status: res.status }).toEqual({ token, status: 401 });
        expect(res.body.type).toBe('unauthorized');
        expect(res.headers['www-authenticate']).toBe('Bearer');
      }
    });

    const id = randomUUID();
    const q = randomUUID();
    const c = randomUUID();
    const routes: [string, string, Role[]][] = [
      ['post', '/articles', ['reporter', 'editor']],
      ['put', `/articles/${id}/headline`, ['reporter', 'editor']],
      ['put', `/articles/${id}/body`, ['reporter', 'editor']],
      ['post', `/articles/${id}/quotes`, ['reporter', 'editor']],
      ['post', `/articles/${id}/quotes/${q}/attribution`, ['reporter', 'editor']],
      ['post', `/articles/${id}/quotes/${q}/withdrawal`, ['reporter', 'editor']],
      ['post', `/articles/${id}/topics`, ['reporter', 'editor']],
      ['delete', `/articles/${id}/topics/x`, ['reporter', 'editor']],
      ['post', `/articles/${id}/claims`, ['reporter', 'editor', 'fact_checker']],
      ['post', `/articles/${id}/claims/${c}/verdict`, ['fact_checker']],
      ['post', `/articles/${id}/submission`, ['reporter', 'editor']],
      ['post', `/articles/${id}/approval`, ['editor']],
      ['post', `/articles/${id}/publication`, ['editor']],
      ['post', `/articles/${id}/retraction`, ['editor']],
      ['post', `/articles/${id}/corrections`, ['editor']],
      ['post', '/sources', ['reporter', 'editor', 'fact_checker']],
      ['put', `/sources/${id}`, ['reporter', 'editor', 'fact_checker']],
    ];
    it.each(routes)('%s %s refuses every other role with 403', async (method, url, allowed) => {
      const others = (['reporter', 'editor', 'fact_checker', 'admin'] as Role[]).filter((r) => !allowed.includes(r));
      for (const role of others) {
        const res = await (t.http() as any)[method](url).set(auth([role])).send({});
        expect({ role, status: res.status, type: res.body.type }).toEqual({ role, status: 403, type: 'forbidden' });
      }
      for (const role of allowed) {
        const res = await (t.http() as any)[method](url).set(auth([role])).send({});
        expect([400, 404, 409, 422]).toContain(res.status);
      }
    });
  });

  describe('domain rules', () => {
    it('404 for unknown articles, quotes, claims and topics; a malformed id is unknown too', async () => {
      expect((await t.http().put(`/articles/${randomUUID()}/headline`).set(reporter()).send({ headline: 'H' })).body.type).toBe('article-not-found');
      expect((await t.http().put('/articles/not-a-uuid/headline').set(reporter()).send({ headline: 'H' })).status).toBe(404);
      expect((await t.http().get(`/articles/${randomUUID()}`).set(reporter())).status).toBe(404);
      const id = await draft();
      const quote = await t.http().post(`/articles/${id}/quotes/${randomUUID()}/withdrawal`).set(reporter()).send({ reason: 'r' });
      expect([quote.status, quote.body.type]).toEqual([404, 'quote-not-found']);
      const claim = await t.http().post(`/articles/${id}/claims/${randomUUID()}/verdict`).set(checker()).send({ verdict: 'unverifiable' });
      expect([claim.status, claim.body.type]).toEqual([404, 'claim-not-found']);
      const topic = await t.http().delete(`/articles/${id}/topics/unknown`).set(reporter());
      expect([topic.status, topic.body.type]).toEqual([404, 'topic-not-tagged']);
      const source = await t.http().put(`/sources/${randomUUID()}`).set(reporter()).send({ name: 'X' });
      expect([source.status, source.body.type]).toEqual([404, 'source-not-found']);
    });

    it('422 quote-not-in-body, unknown-source and reason-required; nothing appended', async () => {
      const id = await draft();
      const straight = await t.http().post(`/articles/${id}/quotes`).set(reporter()).send({ text: "we will rebuild it - stronger than before...", speaker: 'M' });
      expect([straight.status, straight.body.type]).toEqual([422, 'quote-not-in-body']);
      const spaced = await t.http().post(`/articles/${id}/quotes`).set(reporter()).send({ text: 'we  will\nrebuild it —   stronger than before…', speaker: 'M' });
      expect(spaced.status).toBe(201);
      const unknown = await t
        .http()
        .post(`/articles/${id}/quotes/${spaced.body.quoteId}/attribution`)
        .set(reporter())
        .send({ sourceId: randomUUID(), method: 'interview' });
      expect([unknown.status, unknown.body.type]).toEqual([422, 'unknown-source']);
      expect(await events(id)).toHaveLength(2);
    });

    it('409 for state conflicts, publish-blocked with blockers, 403 four-eyes, and a body change sends the article back to draft', async () => {
      const id = await draft();
      const early = await t.http().post(`/articles/${id}/publication`).set(editor());
      expect([early.status, early.body.type]).toEqual([409, 'invalid-transition']);
      const { quoteId } = (await t.http().post(`/articles/${id}/quotes`).set(reporter()).send({ text: QUOTE, speaker: 'M' })).body;
      const { claimId } = (await t.http().post(`/articles/${id}/claims`).set(reporter()).send({ text: 'Unsafe for years' })).body;

      await t.http().post(`/articles/${id}/submission`).set(editor());
      const self = await t.http().post(`/articles/${id}/approval`).set(editor());
      expect([self.status, self.body.type]).toEqual([403, 'four-eyes']);
      expect((await t.http().post(`/articles/${id}/approval`).set(otherEditor())).status).toBe(200);

      const blocked = await t.http().post(`/articles/${id}/publication`).set(editor());
      expect([blocked.status, blocked.body.type]).toEqual([409, 'publish-blocked']);
      expect(blocked.body.blockers).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ kind: 'quote-unattributed', quoteId }),
          expect.objectContaining({ kind: 'claim-unverified', claimId }),
        ]),
      );

      const revised = await t.http().put(`/articles/${id}/body`).set(reporter()).send({ body: `${BODY}\n\nA new paragraph.` });
      expect(revised.status).toBe(200);
      const article = await t.http().get(`/articles/${id}`).set(reporter()).set('x-wait-for-position', revised.body.position);
      expect(article.body.status).toBe('draft');

      const correction = await t.http().post(`/articles/${id}/corrections`).set(editor()).send({ text: 'Too early' });
      expect([correction.status, correction.body.type]).toEqual([409, 'invalid-transition']);
    });

    it('requires a reason for headline and body changes once published', async () => {
      const id = await draft();
      await t.http().post(`/articles/${id}/submission`).set(reporter());
      await t.http().post(`/articles/${id}/approval`).set(editor());
      expect((await t.http().post(`/articles/${id}/publication`).set(editor())).status).toBe(200);
      const noReason = await t.http().put(`/articles/${id}/headline`).set(editor()).send({ headline: 'Bridge closes for good' });
      expect([noReason.status, noReason.body.type]).toEqual([422, 'reason-required']);
      const withReason = await t.http().put(`/articles/${id}/headline`).set(editor()).send({ headline: 'Bridge closes for good', reason: 'Council confirmed' });
      expect(withReason.status).toBe(200);
      const log = await events(id);
      expect(log[log.length - 1]).toMatchObject({ type: 'HeadlineChanged', metadata: { reason: 'Council confirmed' } });
    });

    it('a write that changes nothing appends nothing and answers 200 with the current revision', async () => {
      const id = await draft();
      const first = await t.http().post(`/articles/${id}/topics`).set(reporter()).send({ topic: 'Transport' });
      expect(first.status).toBe(201);
      const again = await t.http().post(`/articles/${id}/topics`).set(reporter()).send({ topic: 'transport' });
      expect(again.status).toBe(200);
      expect(again.body).toEqual(first.body);
      const same = await t.http().put(`/articles/${id}/body`).set(reporter()).send({ body: BODY });
      expect([same.status, same.body.revision]).toEqual([200, 1]);
      expect(await events(id)).toHaveLength(2);
      expect((await t.http().delete(`/articles/${id}/topics/transport`).set(reporter())).status).toBe(200);
    });

    it('updates and re-attributes sources', async () => {
      const sourceId = await registerSource('John Roe');
      const dup = await t.http().post('/sources').set(reporter()).send({ id: sourceId, name: 'John Roe', kind: 'person' });
      expect([dup.status, dup.body.type]).toEqual([409, 'source-exists']);
      const updated = await t.http().put(`/sources/${sourceId}`).set(checker()).send({ title: null, organization: 'Transport Ministry' });
      expect([updated.status, updated.body.revision]).toEqual([200, 1]);
      const id = await draft();
      const { quoteId } = (await t.http().post(`/articles/${id}/quotes`).set(reporter()).send({ text: QUOTE, speaker: 'J' })).body;
      const other = await registerSource('Jane Roe');
      await t.http().post(`/articles/${id}/quotes/${quoteId}/attribution`).set(reporter()).send({ sourceId, method: 'interview' });
      const last = await t.http().post(`/articles/${id}/quotes/${quoteId}/attribution`).set(reporter()).send({ sourceId: other, method: 'statement' });
      const article = await t.http().get(`/articles/${id}`).set(reporter()).set('x-wait-for-position', last.body.position);
      expect(article.body.quotes[0]).toMatchObject({ source: { id: other, name: 'Jane Roe' }, method: 'statement' });
    });
  });

  describe('optimistic concurrency', () => {
    it('412 when If-Match names an old revision, with the current one in detail; nothing appended', async () => {
      const id = await draft();
      const [drafted] = await events(id);
      const etag = (await t.http().get(`/articles/${id}`).set(reporter()).set('x-wait-for-position', drafted.position)).headers.etag;
      expect(etag).toBe('"0"');
      expect((await t.http().put(`/articles/${id}/headline`).set(reporter()).set('if-match', etag).send({ headline: 'One' })).status).toBe(200);
      const stale = await t.http().put(`/articles/${id}/headline`).set(reporter()).set('if-match', etag).send({ headline: 'Two' });
      expect([stale.status, stale.body.type]).toEqual([412, 'revision-mismatch']);
      expect(stale.body.detail).toContain('1');
      expect(stale.body.currentRevision).toBe(1);
      expect(await events(id)).toHaveLength(2);
      const bad = await t.http().put(`/articles/${id}/headline`).set(reporter()).set('if-match', 'yesterday').send({ headline: 'Two' });
      expect(bad.status).toBe(400);
    });

    it('racing writers without If-Match never lose an event', async () => {
      const id = await draft();
      const topics = Array.from({ length: 12 }, (_, i) => `Topic ${i}`);
      const answers = await Promise.all(topics.map((topic) => t.http().post(`/articles/${id}/topics`).set(reporter()).send({ topic })));
      expect(answers.map((a) => a.status)).toEqual(topics.map(() => 201));
      const log = await events(id);
      expect(log.filter((e) => e.type === 'TopicTagged')).toHaveLength(12);
      expect(new Set(answers.map((a) => a.body.revision)).size).toBe(12);
    });
  });

  describe('idempotency', () => {
    it('replays the first answer for the same key and body, appends nothing, and refuses the key with another body', async () => {
      const key = `key-${randomUUID()}`;
      const body = { headline: 'Once', body: BODY };
      const first = await t.http().post('/articles').set(reporter()).set('idempotency-key', key).send(body);
      expect(first.status).toBe(201);
      const again = await t.http().post('/articles').set(reporter()).set('idempotency-key', key).send({ body: BODY, headline: 'Once' });
      expect(again.status).toBe(201);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.body).toEqual(first.body);
      expect(await events(first.body.id)).toHaveLength(1);
      const reused = await t.http().post('/articles').set(reporter()).set('idempotency-key', key).send({ headline: 'Twice', body: BODY });
      expect([reused.status, reused.body.type]).toEqual([422, 'idempotency-key-reused']);
      const otherActor = await t.http().post('/articles').set(auth(['reporter'], 'reporter-2')).set('idempotency-key', key).send(body);
      expect(otherActor.status).toBe(201);
      expect(otherActor.body.id).not.toBe(first.body.id);
      const tooLong = await t.http().post('/articles').set(reporter()).set('idempotency-key', 'k'.repeat(201)).send(body);
      expect(tooLong.status).toBe(400);
    });

    it('a retried command whose answer was lost is answered from the log, not applied twice', async () => {
      const id = await draft();
      const key = `key-${randomUUID()}`;
      const first = await t.http().post(`/articles/${id}/quotes`).set(reporter()).set('idempotency-key', key).send({ text: QUOTE, speaker: 'M' });
      // Forget the stored answer, as if the process died between the append and storing it.
      await t.runtime.pool.query('DELETE FROM idempotency_keys WHERE key = $1', [key]);
      const retry = await t.http().post(`/articles/${id}/quotes`).set(reporter()).set('idempotency-key', key).send({ text: QUOTE, speaker: 'M' });
      expect(first.status).toBe(201);
      expect(retry.status).toBe(first.status);
      expect(retry.headers.etag).toBe(first.headers.etag);
      expect(retry.body).toEqual(first.body);
      expect((await events(id)).filter((e) => e.type === 'QuoteAdded')).toHaveLength(1);
      // API.md: a repeated key returns the first answer with Idempotent-Replayed, also when it comes from the log.
      expect(retry.headers['idempotent-replayed']).toBe('true');
    });
  });
});

describe.each(EVENT_STORES)('HTTP commands across a restart, events in %s', (kind) => {
  it('replays an idempotent answer after the server restarts', async () => {
    const store = await startEventStore(kind);
    const first = await startTestApp({ eventStoreConnectionString: store.eventStoreConnectionString });
    const reporter = { authorization: `Bearer ${first.token(['reporter'], 'r-1')}` };
    const body = { headline: 'Survives', body: 'Restarts are routine.' };
    const answer = await first.http().post('/articles').set(reporter).set('idempotency-key', 'restart-1').send(body);
    expect(answer.status).toBe(201);
    await first.stop();
    const second = await startTestApp({ db: first.db, eventStoreConnectionString: store.eventStoreConnectionString });
    try {
      const replay = await second.http().post('/articles').set(reporter).set('idempotency-key', 'restart-1').send(body);
      expect(replay.status).toBe(201);
      expect(replay.headers['idempotent-replayed']).toBe('true');
      expect(replay.body).toEqual(answer.body);
      expect(await second.runtime.eventStore.readStream(`article-${answer.body.id}`)).toHaveLength(1);
    } finally {
      await second.close();
      await first.db.drop();
      await store.stop();
    }
  });
});

describe('HTTP commands without a body', () => {
  it('takes Content-Type: application/json with an empty body as no body', async () => {
    const t = await startTestApp();
    try {
      const reporter = { authorization: `Bearer ${t.token(['reporter'], 'r-1')}` };
      const drafted = await t.http().post('/articles').set(reporter).send({ headline: 'H', body: 'B' });
      const submitted = await t.http().post(`/articles/${drafted.body.id}/submission`).set(reporter).set('content-type', 'application/json').send('');
      expect(submitted.status).toBe(200);
      const proto = await t.http().post('/articles').set(reporter).set('content-type', 'application/json').send('{"headline":"H","body":"B","__proto__":{"x":1}}');
      expect(proto.status).toBe(400);
    } finally {
      await t.close();
    }
  });
});
