import { Role } from '../../src/newsroom/actor';
import { articlesProjection, sourcesProjection } from '../../projections';
import { startTestApp, TestApp } from '../support/app';
import { eventually } from '../support/read-side';

const BODY = ['The council voted on Tuesday to close the old bridge.', 'The mayor said "we will rebuild it" at the meeting.', 'Engineers warned the span was "unsafe for years".'].join('\n\n');
const REVISED = ['The council voted on Tuesday to close the old Elm Street bridge.', 'The mayor said "we will rebuild it" at the meeting.', 'Engineers warned the span was "unsafe for years".'].join('\n\n');
const FAR_AHEAD = '999999999999999999999999';

describe('HTTP queries', () => {
  let t: TestApp;
  let last = '0';
  const auth = (roles: Role[], id: string, name: string) => ({ authorization: `Bearer ${t.token(roles, id, name)}` });
  const reporter = () => auth(['reporter'], 'reporter-1', 'Rita Reporter');
  const editor = () => auth(['editor'], 'editor-1', 'Ed Editor');
  const checker = () => auth(['fact_checker'], 'checker-1', 'Fay Checker');
  const admin = () => auth(['admin'], 'admin-1', 'Ada Admin');

  /** Every write moves `last`; reads wait for it, as a client using X-Wait-For-Position does. */
  async function write(request: Promise<{ status: number; body: { position: string } }>, status = [200, 201]) {
    const res = await request;
    expect(status).toContain(res.status);
    if (BigInt(res.body.position) > BigInt(last)) last = res.body.position;
    return res.body as { id: string; revision: number; position: string; quoteId?: string; claimId?: string };
  }
  const read = (path: string) => t.http().get(path).set(reporter()).set('x-wait-for-position', last);

  let A: string;
  let B: string;
  let jane: string;
  let city: string;
  let q1: string;
  let q2: string;
  let c1: string;
  let cB: string;

  beforeAll(async () => {
    t = await startTestApp();
    // The recorded sequence: draft, revise, quote, attribute, tag, claim, verdict, submit, approve, publish, correct.
    jane = (await write(t.http().post('/sources').set(reporter()).send({ name: 'Jane Doe', kind: 'person', title: 'Mayor', organization: 'City Council' }))).id;
    city = (await write(t.http().post('/sources').set(reporter()).send({ name: 'Bridge Authority', kind: 'organization' }))).id;
    A = (await write(t.http().post('/articles').set(reporter()).send({ headline: 'Bridge closes', body: BODY, byline: 'A. Reporter', desk: 'City' }))).id; // r0
    await write(t.http().put(`/articles/${A}/body`).set(reporter()).send({ body: REVISED })); // r1
    q1 = (await write(t.http().post(`/articles/${A}/quotes`).set(reporter()).send({ text: 'we will rebuild it', speaker: 'Mayor Jane Doe' }))).quoteId!; // r2
    q2 = (await write(t.http().post(`/articles/${A}/quotes`).set(reporter()).send({ text: 'unsafe for years', speaker: 'An engineer' }))).quoteId!; // r3
    await write(t.http().post(`/articles/${A}/quotes/${q1}/attribution`).set(reporter()).send({ sourceId: jane, attribution: 'told reporters', method: 'press_briefing' })); // r4
    await write(t.http().post(`/articles/${A}/topics`).set(reporter()).send({ topic: 'Infrastructure' })); // r5
    await write(t.http().post(`/articles/${A}/topics`).set(reporter()).send({ topic: 'City Hall' })); // r6
    c1 = (await write(t.http().post(`/articles/${A}/claims`).set(checker()).send({ text: 'The span was unsafe for years', quoteId: q2 }))).claimId!; // r7
    await write(
      t.http().post(`/articles/${A}/claims/${c1}/verdict`).set(checker()).send({ verdict: 'verified', evidence: [{ url: 'https://example.org/report.pdf', note: '2019 inspection report' }] }),
    ); // r8
    await write(t.http().put(`/articles/${A}/headline`).set(reporter()).send({ headline: 'Elm Street bridge closes', reason: 'Name the bridge' })); // r9
    await write(t.http().post(`/articles/${A}/quotes/${q2}/withdrawal`).set(reporter()).send({ reason: 'Could not confirm the speaker' })); // r10
    await write(t.http().post(`/articles/${A}/submission`).set(reporter())); // r11
    await write(t.http().post(`/articles/${A}/approval`).set(editor())); // r12
    await write(t.http().post(`/articles/${A}/publication`).set(editor())); // r13
    await write(t.http().post(`/articles/${A}/corrections`).set(editor()).send({ text: 'An earlier version misdated the vote.' })); // r14

    B = (await write(t.http().post('/articles').set(reporter()).send({ headline: 'Budget talks stall', body: 'Talks on the city budget stalled on Friday.' }))).id;
    await write(t.http().post(`/articles/${B}/topics`).set(reporter()).send({ topic: 'Infrastructure' }));
    await write(t.http().post(`/articles/${B}/topics`).set(reporter()).send({ topic: 'Elections' }));
    await write(t.http().delete(`/articles/${B}/topics/elections`).set(reporter()));
    cB = (await write(t.http().post(`/articles/${B}/claims`).set(reporter()).send({ text: 'Talks stalled on Friday' }))).claimId!;
    await write(t.http().put(`/sources/${jane}`).set(reporter()).send({ title: 'Mayor of Springfield' }));
  });
  afterAll(async () => {
    await t.close();
  });

  describe('articles', () => {
    it('GET /articles/{id} answers the read model with ETag and X-Read-Position, equal to time travel at the current revision', async () => {
      const res = await read(`/articles/${A}`);
      expect(res.status).toBe(200);
      expect(res.headers.etag).toBe('"14"');
      expect(BigInt(res.headers['x-read-position'])).toBeGreaterThanOrEqual(BigInt(last));
      expect(res.body).toMatchObject({
        id: A,
        headline: 'Elm Street bridge closes',
        byline: 'A. Reporter',
        desk: 'City',
        status: 'published',
        body: REVISED,
        revision: 14,
        publishedAt: expect.any(String),
        quotes: [
          { id: q1, text: 'we will rebuild it', speaker: 'Mayor Jane Doe', paragraph: 1, status: 'attributed', inBody: true, attribution: 'told reporters', method: 'press_briefing', source: { id: jane, name: 'Jane Doe', title: 'Mayor', organization: 'City Council' } },
          { id: q2, status: 'withdrawn', paragraph: 2, inBody: true, source: null },
        ],
        topics: [
          { slug: 'infrastructure', label: 'Infrastructure' },
          { slug: 'city-hall', label: 'City Hall' },
        ],
        claims: [{ id: c1, quoteId: q2, verdict: 'verified', evidence: [{ url: 'https://example.org/report.pdf', note: '2019 inspection report' }], checkedBy: { id: 'checker-1', name: 'Fay Checker' } }],
        corrections: [{ text: 'An earlier version misdated the vote.', issuedBy: { id: 'editor-1', name: 'Ed Editor' } }],
      });
      const travelled = await t.http().get(`/articles/${A}/revisions/14`).set(reporter());
      expect(travelled.status).toBe(200);
      expect(travelled.text).toBe(res.text);
    });

    it('unknown or malformed ids are 404 article-not-found; no token is 401', async () => {
      const unknown = await read('/articles/8e0d7c1a-0000-4000-8000-000000000000');
      expect([unknown.status, unknown.body.type]).toEqual([404, 'article-not-found']);
      expect(unknown.headers['x-read-position']).toMatch(/^\d+$/);
      expect((await read('/articles/not-an-id')).status).toBe(404);
      expect((await t.http().get(`/articles/${A}`)).status).toBe(401);
      expect((await t.http().get('/audit')).status).toBe(401);
    });

    it('GET /articles lists newest first and filters by status, topic (slug or label) and q (headline or body, any case)', async () => {
      const list = await read('/articles');
      expect(list.status).toBe(200);
      expect(list.body).toEqual({
        items: [
          { id: B, headline: 'Budget talks stall', status: 'draft', revision: 4, updatedAt: expect.any(String), topics: [{ slug: 'infrastructure', label: 'Infrastructure' }] },
          { id: A, headline: 'Elm Street bridge closes', status: 'published', revision: 14, updatedAt: expect.any(String), topics: [{ slug: 'infrastructure', label: 'Infrastructure' }, { slug: 'city-hall', label: 'City Hall' }] },
        ],
        nextCursor: null,
      });
      const ids = async (query: string) => (await read(`/articles?${query}`)).body.items.map((i: { id: string }) => i.id);
      expect(await ids('status=published')).toEqual([A]);
      expect(await ids('status=draft')).toEqual([B]);
      expect(await ids('status=retracted')).toEqual([]);
      expect(await ids('topic=infrastructure')).toEqual([B, A]);
      expect(await ids('topic=City%20Hall')).toEqual([A]);
      expect(await ids('topic=elections')).toEqual([]);
      expect(await ids('q=ELM%20street')).toEqual([A]);
      expect(await ids('q=city%20budget')).toEqual([B]);
      expect(await ids('q=bridge&status=draft')).toEqual([]);
      const bad = await read('/articles?status=lost');
      expect([bad.status, bad.body.type, bad.body.errors[0].field]).toEqual([400, 'validation-failed', 'status']);
    });

    it('paginates with limit and an opaque cursor, and refuses bad ones naming the field', async () => {
      const first = await read('/articles?limit=1');
      expect(first.body.items.map((i: { id: string }) => i.id)).toEqual([B]);
      expect(first.body.nextCursor).toMatch(/^[A-Za-z0-9_-]+$/);
      const second = await read(`/articles?limit=1&cursor=${first.body.nextCursor}`);
      expect(second.body).toEqual({ items: [expect.objectContaining({ id: A })], nextCursor: null });
      for (const limit of ['0', '201', 'ten', '-1', '1.5']) {
        const res = await read(`/articles?limit=${limit}`);
        expect([res.status, res.body.type, res.body.errors.map((e: { field: string }) => e.field)]).toEqual([400, 'validation-failed', ['limit']]);
      }
      expect((await read('/articles?limit=200')).status).toBe(200);
      for (const cursor of ['garbage!', 'eyJ4IjoxfQ', Buffer.from(JSON.stringify(['audit', '1'])).toString('base64url')]) {
        const res = await read(`/articles?cursor=${cursor}`);
        expect([res.status, res.body.errors.map((e: { field: string }) => e.field)]).toEqual([400, ['cursor']]);
      }
      // Every list pages the same way.
      const audit = await read('/audit?limit=2');
      const audit2 = await read(`/audit?limit=2&cursor=${audit.body.nextCursor}`);
      expect(audit2.body.items).toHaveLength(2);
      expect(BigInt(audit2.body.items[0].position)).toBeLessThan(BigInt(audit.body.items[1].position));
      const history = await read(`/articles/${A}/history?limit=10`);
      const rest = await read(`/articles/${A}/history?limit=10&cursor=${history.body.nextCursor}`);
      expect([...history.body.items, ...rest.body.items].map((e: { revision: number }) => e.revision)).toEqual([...Array(15).keys()]);
      expect(rest.body.nextCursor).toBeNull();
      const sources = await read('/sources?limit=1');
      const sources2 = await read(`/sources?limit=1&cursor=${sources.body.nextCursor}`);
      expect([sources.body.items[0].name, sources2.body.items[0].name, sources2.body.nextCursor]).toEqual(['Bridge Authority', 'Jane Doe', null]);
      const topics = await read('/topics?limit=1');
      expect((await read(`/topics?limit=1&cursor=${topics.body.nextCursor}`)).body.items[0].slug).toBe('infrastructure');
    });

    it('GET /articles/{id}/claims and GET /claims filter by verdict and topic', async () => {
      const claims = await read(`/articles/${A}/claims`);
      expect(claims.body).toEqual({
        items: [
          {
            id: c1,
            text: 'The span was unsafe for years',
            quoteId: q2,
            verdict: 'verified',
            evidence: [{ url: 'https://example.org/report.pdf', note: '2019 inspection report' }],
            note: null,
            checkedBy: { id: 'checker-1', name: 'Fay Checker' },
            checkedAt: expect.any(String),
          },
        ],
        nextCursor: null,
      });
      expect((await read(`/articles/${A}/claims?verdict=false`)).body.items).toEqual([]);
      expect((await read(`/articles/${B}/claims?verdict=none`)).body.items.map((c: { id: string }) => c.id)).toEqual([cB]);
      expect((await read(`/articles/8e0d7c1a-0000-4000-8000-000000000000/claims`)).body.type).toBe('article-not-found');
      const across = await read('/claims');
      expect(across.body.items.map((c: { id: string; articleId: string; headline: string }) => [c.id, c.articleId, c.headline])).toEqual([
        [cB, B, 'Budget talks stall'],
        [c1, A, 'Elm Street bridge closes'],
      ]);
      expect((await read('/claims?verdict=verified')).body.items.map((c: { id: string }) => c.id)).toEqual([c1]);
      expect((await read('/claims?topic=city-hall')).body.items.map((c: { id: string }) => c.id)).toEqual([c1]);
      expect((await read('/claims?topic=Infrastructure&verdict=none')).body.items.map((c: { id: string }) => c.id)).toEqual([cB]);
      const bad = await read('/claims?verdict=maybe');
      expect([bad.status, bad.body.errors[0].field]).toEqual([400, 'verdict']);
    });

    it('GET /articles/{id}/history: every event oldest first, with actor and reason', async () => {
      const res = await read(`/articles/${A}/history`);
      expect(res.status).toBe(200);
      const items = res.body.items as { revision: number; type: string; actor: { id: string }; reason: string | null; data: Record<string, unknown>; position: string; occurredAt: string }[];
      expect(items.map((e) => e.type)).toEqual([
        'ArticleDrafted',
        'BodyRevised',
        'QuoteAdded',
        'QuoteAdded',
        'SourceAttributed',
        'TopicTagged',
        'TopicTagged',
        'ClaimRecorded',
        'ClaimVerdictRecorded',
        'HeadlineChanged',
        'QuoteWithdrawn',
        'ArticleSubmitted',
        'ArticleApproved',
        'ArticlePublished',
        'CorrectionIssued',
      ]);
      expect(items[9]).toEqual({
        revision: 9,
        position: expect.stringMatching(/^\d+$/),
        type: 'HeadlineChanged',
        occurredAt: expect.any(String),
        actor: { id: 'reporter-1', name: 'Rita Reporter' },
        reason: 'Name the bridge',
        data: { headline: 'Elm Street bridge closes', reason: 'Name the bridge', by: 'reporter-1' },
      });
      expect(items[8].actor.id).toBe('checker-1');
      expect(items[10].reason).toBe('Could not confirm the speaker');
      expect(new Set(items.map((e) => e.position)).size).toBe(15);
    });

    it('GET /articles/{id}/revisions/{revision} folds the event store at that revision; 404 past the current one', async () => {
      const r0 = await read(`/articles/${A}/revisions/0`);
      expect(r0.body).toMatchObject({ revision: 0, headline: 'Bridge closes', body: BODY, status: 'draft', quotes: [], topics: [], publishedAt: null });
      const r4 = await read(`/articles/${A}/revisions/4`);
      expect(r4.body.quotes.map((q: { status: string }) => q.status)).toEqual(['attributed', 'unattributed']);
      const r12 = await read(`/articles/${A}/revisions/12`);
      expect([r12.body.status, r12.body.headline, r12.body.corrections]).toEqual(['approved', 'Elm Street bridge closes', []]);
      const past = await read(`/articles/${A}/revisions/15`);
      expect([past.status, past.body.type]).toEqual([404, 'revision-not-found']);
      const unknown = await read('/articles/8e0d7c1a-0000-4000-8000-000000000000/revisions/0');
      expect([unknown.status, unknown.body.type]).toEqual([404, 'article-not-found']);
      const bad = await read(`/articles/${A}/revisions/first`);
      expect([bad.status, bad.body.errors[0].field]).toEqual([400, 'revision']);
    });

    it('GET /articles/{id}/diff compares two revisions', async () => {
      const res = await read(`/articles/${A}/diff?from=0&to=14`);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        id: A,
        from: 0,
        to: 14,
        headline: { before: 'Bridge closes', after: 'Elm Street bridge closes' },
        status: { before: 'draft', after: 'published' },
        topics: { added: [{ slug: 'infrastructure', label: 'Infrastructure' }, { slug: 'city-hall', label: 'City Hall' }], removed: [] },
      });
      expect(res.body.body).toContain('--- body\trevision 0');
      expect(res.body.body).toContain('-The council voted on Tuesday to close the old bridge.');
      expect(res.body.body).toContain('+The council voted on Tuesday to close the old Elm Street bridge.');
      expect(res.body.quotes.added.map((q: { id: string }) => q.id)).toEqual([q1, q2]);
      expect(res.body.quotes.withdrawn.map((q: { id: string }) => q.id)).toEqual([q2]);
      expect(res.body.quotes.attributed.map((q: { id: string }) => q.id)).toEqual([q1]);
      expect(res.body.claims.recorded.map((c: { id: string }) => c.id)).toEqual([c1]);
      expect(res.body.claims.verdicts).toEqual([{ claimId: c1, before: null, after: 'verified' }]);

      const small = await read(`/articles/${A}/diff?from=9&to=11`);
      expect(small.body).toMatchObject({ headline: null, body: null, status: { before: 'draft', after: 'in_review' }, quotes: { added: [], withdrawn: [expect.objectContaining({ id: q2 })], attributed: [] } });
      const current = await read(`/articles/${A}/diff?from=13`);
      expect([current.body.to, current.body.status, current.body.headline]).toEqual([14, null, null]);

      const invalid = await read(`/articles/${A}/diff?from=x&to=-1`);
      expect([invalid.status, invalid.body.type, invalid.body.errors.map((e: { field: string }) => e.field)]).toEqual([400, 'validation-failed', ['from', 'to']]);
      const reversed = await read(`/articles/${A}/diff?from=5&to=3`);
      expect([reversed.status, reversed.body.errors[0].field]).toEqual([400, 'from']);
      expect((await read(`/articles/${A}/diff?from=0&to=99`)).status).toBe(404);
    });
  });

  describe('audit, sources, topics', () => {
    it('GET /audit: newest first with streamId; filters actor, type, since, until', async () => {
      const all = await read('/audit?limit=200');
      const items = all.body.items as { streamId: string; position: string; type: string; occurredAt: string; actor: { id: string } }[];
      expect(items).toHaveLength(23);
      expect(items[0]).toMatchObject({ streamId: `source-${jane}`, type: 'SourceUpdated', revision: 1 });
      const positions = items.map((e) => BigInt(e.position));
      expect([...positions].sort((a, b) => (a > b ? -1 : a < b ? 1 : 0))).toEqual(positions);
      expect((await read('/audit?actor=checker-1')).body.items.map((e: { type: string }) => e.type)).toEqual(['ClaimVerdictRecorded', 'ClaimRecorded']);
      expect((await read('/audit?type=SourceRegistered')).body.items.map((e: { streamId: string }) => e.streamId)).toEqual([`source-${city}`, `source-${jane}`]);
      const middle = items[10].occurredAt;
      const since = (await read(`/audit?since=${encodeURIComponent(middle)}&limit=200`)).body.items;
      const until = (await read(`/audit?until=${encodeURIComponent(middle)}&limit=200`)).body.items;
      expect(since.length + until.length).toBe(23);
      expect(since.every((e: { occurredAt: string }) => e.occurredAt >= middle)).toBe(true);
      expect(until.every((e: { occurredAt: string }) => e.occurredAt < middle)).toBe(true);
      const bad = await read('/audit?since=yesterday&until=2024-13-45');
      expect([bad.status, bad.body.errors.map((e: { field: string }) => e.field)]).toEqual([400, ['since', 'until']]);
    });

    it('GET /sources, /sources/{id} (ETag = source revision) and /sources/{id}/quotes', async () => {
      expect((await read('/sources')).body).toEqual({
        items: [
          { id: city, name: 'Bridge Authority', kind: 'organization', title: null, organization: null, quoteCount: 0 },
          { id: jane, name: 'Jane Doe', kind: 'person', title: 'Mayor of Springfield', organization: 'City Council', quoteCount: 1 },
        ],
        nextCursor: null,
      });
      expect((await read('/sources?q=SPRING')).body.items.map((s: { id: string }) => s.id)).toEqual([jane]);
      expect((await read('/sources?q=authority')).body.items.map((s: { id: string }) => s.id)).toEqual([city]);
      const one = await read(`/sources/${jane}`);
      expect([one.status, one.headers.etag, one.body.quoteCount, one.headers['x-read-position'] !== undefined]).toEqual([200, '"1"', 1, true]);
      const quotes = await read(`/sources/${jane}/quotes`);
      expect(quotes.body).toEqual({
        items: [{ articleId: A, headline: 'Elm Street bridge closes', quoteId: q1, text: 'we will rebuild it', attribution: 'told reporters', method: 'press_briefing', status: 'attributed' }],
        nextCursor: null,
      });
      const unknown = await read('/sources/8e0d7c1a-0000-4000-8000-000000000000');
      expect([unknown.status, unknown.body.type]).toEqual([404, 'source-not-found']);
      expect((await read('/sources/8e0d7c1a-0000-4000-8000-000000000000/quotes')).body.type).toBe('source-not-found');
    });

    it('GET /topics: topics in use with their article counts', async () => {
      expect((await read('/topics')).body).toEqual({
        items: [
          { slug: 'city-hall', label: 'City Hall', articleCount: 1 },
          { slug: 'infrastructure', label: 'Infrastructure', articleCount: 2 },
        ],
        nextCursor: null,
      });
    });
  });

  describe('read-your-writes', () => {
    it('X-Wait-For-Position answers after the write is projected', async () => {
      for (let i = 0; i < 5; i++) {
        const written = await write(t.http().put(`/articles/${B}/headline`).set(reporter()).send({ headline: `Budget talks stall, day ${i}` }));
        const res = await t.http().get(`/articles/${B}`).set(reporter()).set('x-wait-for-position', written.position);
        expect([res.status, res.body.headline, res.headers.etag]).toEqual([200, `Budget talks stall, day ${i}`, `"${written.revision}"`]);
        expect(BigInt(res.headers['x-read-position'])).toBeGreaterThanOrEqual(BigInt(written.position));
        const listed = await t.http().get(`/claims?topic=infrastructure`).set(reporter()).set('x-wait-for-position', written.position);
        expect(listed.body.items[0].headline).toBe(`Budget talks stall, day ${i}`);
      }
    });

    it('503 projection-lagging with Retry-After when the position is not reached within 5 s; 400 when malformed', async () => {
      const started = Date.now();
      const res = await t.http().get('/topics').set(reporter()).set('x-wait-for-position', FAR_AHEAD);
      expect(Date.now() - started).toBeGreaterThanOrEqual(4900);
      expect([res.status, res.body.type, res.headers['retry-after']]).toEqual([503, 'projection-lagging', '1']);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(res.headers['x-read-position']).toMatch(/^\d+$/);
      for (const value of ['soon', '-5', '12.5']) {
        const bad = await t.http().get('/topics').set(reporter()).set('x-wait-for-position', value);
        expect([bad.status, bad.body.errors[0].field]).toEqual([400, 'X-Wait-For-Position']);
      }
      expect((await t.http().get(`/articles/${A}/revisions/0`).set(reporter()).set('x-wait-for-position', 'soon')).status).toBe(400);
    }, 15_000);
  });

  describe('projections admin', () => {
    it('GET /admin/projections (admin only) shows every projection running and caught up', async () => {
      expect((await t.http().get('/admin/projections').set(reporter())).status).toBe(403);
      expect((await t.http().post('/admin/projections/articles/rebuild').set(editor())).status).toBe(403);
      const res = await t.http().get('/admin/projections').set(admin()).set('x-wait-for-position', last);
      await eventually(
        async () => (await t.http().get('/admin/projections').set(admin())).body.items,
        (items: { lag: number }[]) => items.every((i) => i.lag === 0),
      );
      expect(res.body.items.map((p: { name: string; version: number; status: string; error: unknown }) => [p.name, p.version, p.status, p.error])).toEqual([
        ['articles', articlesProjection.version, 'running', null],
        ['sources', sourcesProjection.version, 'running', null],
        ['audit', 1, 'running', null],
      ]);
      expect(res.body.items[0].position).toMatch(/^\d+$/);
      const unknown = await t.http().post('/admin/projections/nope/rebuild').set(admin());
      expect([unknown.status, unknown.body.type]).toEqual([404, 'projection-not-found']);
    });

    it('a rebuild of every projection through the API leaves every read answer byte-identical', async () => {
      const paths = [
        '/articles',
        `/articles/${A}`,
        `/articles/${B}`,
        `/articles?topic=infrastructure&limit=1`,
        `/articles/${A}/claims`,
        `/articles/${B}/claims`,
        '/claims',
        `/articles/${A}/history`,
        `/articles/${B}/history`,
        '/audit?limit=200',
        '/sources',
        `/sources/${jane}`,
        `/sources/${jane}/quotes`,
        `/sources/${city}/quotes`,
        '/topics',
      ];
      const snapshot = async () => Promise.all(paths.map(async (p) => {
        const res = await read(p);
        expect(res.status).toBe(200);
        return `${p} ${res.status} ${res.headers.etag ?? ''}\n${res.text}`;
      }));
      const before = await snapshot();
      const names = ['articles', 'sources', 'audit'];
      for (const name of names) {
        const res = await t.http().post(`/admin/projections/${name}/rebuild`).set(admin());
        expect([res.status, res.body.name, res.body.status]).toEqual([202, name, 'rebuilding']);
      }
      const during = await snapshot();
      expect(during).toEqual(before);
      await eventually(
        async () => (await t.http().get('/admin/projections').set(admin())).body.items as { status: string; rebuild: unknown }[],
        (items) => items.every((i) => i.status === 'running' && i.rebuild === null),
        20_000,
      );
      const { rows } = await t.runtime.pool.query<{ rebuilt_at: Date | null }>('SELECT rebuilt_at FROM projection_status');
      expect(rows.every((r) => r.rebuilt_at !== null)).toBe(true);
      expect(await snapshot()).toEqual(before);
    });
  });
});
