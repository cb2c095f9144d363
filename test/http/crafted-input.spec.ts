import { startTestApp, TestApp } from '../support/app';

const cursorOf = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value), 'utf8').toString('base64url');

/** Keys no list ever hands out: wrong types, out of every column's range, text PostgreSQL cannot hold, broken ids. */
const FORGED_KEYS: unknown[] = [
  9007199254740991,
  2 ** 31,
  -2,
  1.5,
  '-1',
  'Not A Slug',
  'a\u0000',
  '\ud800',
  'x'.repeat(1001),
  null,
  true,
  {},
  [],
  ['a'],
  ['a', '------------------------------------'],
  ['a', '00000000-0000-4000-8000-00000000000g'],
  ['a\u0000', '00000000-0000-4000-8000-000000000000'],
  ['a', '00000000-0000-4000-8000-000000000000', 'extra'],
];
/** Not positions (beyond 64 bits, leading zeros, exponents); the topics list's keys are slugs, which these may be. */
const FORGED_POSITIONS = ['18446744073709551616', '012', '1e3', '9'.repeat(30)];

describe('crafted query strings, cursors and text', () => {
  let t: TestApp;
  let reporter: { authorization: string };
  let editor: { authorization: string };
  let checker: { authorization: string };
  let articleId: string;
  let sourceId: string;

  beforeAll(async () => {
    t = await startTestApp({ env: { RATE_LIMIT_WRITES_PER_MINUTE: '1000000' } });
    reporter = { authorization: `Bearer ${t.token(['reporter'], 'rita')}` };
    editor = { authorization: `Bearer ${t.token(['editor'], 'ed')}` };
    checker = { authorization: `Bearer ${t.token(['fact_checker'], 'fay')}` };
    sourceId = (await t.http().post('/sources').set(reporter).send({ name: 'Jane Doe', kind: 'person' })).body.id;
    const body = 'The mayor said “we will rebuild it” on Tuesday.\n\nIt’s a long-term plan — and a costly one.';
    articleId = (await t.http().post('/articles').set(reporter).send({ headline: 'Bridge', body })).body.id;
    // Two of everything, so that each list has a second page.
    await t.http().post('/sources').set(reporter).send({ name: 'John Roe', kind: 'person' });
    await t.http().post('/articles').set(reporter).send({ headline: 'Second', body: 'Another story.' });
    for (const text of ['we will rebuild it', 'on Tuesday']) {
      const quoteId = (await t.http().post(`/articles/${articleId}/quotes`).set(reporter).send({ text, speaker: 'Jane' })).body.quoteId;
      await t.http().post(`/articles/${articleId}/quotes/${quoteId}/attribution`).set(reporter).send({ sourceId, method: 'interview' });
    }
    await t.http().post(`/articles/${articleId}/topics`).set(reporter).send({ topic: 'Roads' });
    await t.http().post(`/articles/${articleId}/topics`).set(reporter).send({ topic: 'Rail' });
    await t.http().post(`/articles/${articleId}/claims`).set(checker).send({ text: 'The bridge closes' });
    const last = await t.http().post(`/articles/${articleId}/claims`).set(checker).send({ text: 'It costs a lot' });
    // Everything projected, so that each list has something to page through.
    await t.http().get(`/articles/${articleId}`).set(reporter).set('x-wait-for-position', last.body.position);
  });
  afterAll(async () => {
    await t.close();
  });

  const LISTS = () => [
    { path: '/articles', kind: 'articles' },
    { path: `/articles/${articleId}/claims`, kind: 'article-claims' },
    { path: '/claims', kind: 'claims' },
    { path: `/articles/${articleId}/history`, kind: 'history' },
    { path: '/audit', kind: 'audit' },
    { path: '/sources', kind: 'sources' },
    { path: `/sources/${sourceId}/quotes`, kind: 'source-quotes' },
    { path: '/topics', kind: 'topics' },
  ];

  it('answers the reported 500s with 400 naming the parameter', async () => {
    const cases: [string, string][] = [
      ['/articles?q=%00', 'q'],
      ['/sources?q=%00', 'q'],
      ['/audit?actor=%00', 'actor'],
      ['/audit?type=a%00', 'type'],
      [`/articles/${articleId}/history?cursor=${cursorOf(['history', 9007199254740991])}`, 'cursor'],
      [`/topics?cursor=${cursorOf(['topics', 'roads\u0000'])}`, 'cursor'],
      [`/sources?cursor=${cursorOf(['sources', ['jane', '------------------------------------']])}`, 'cursor'],
    ];
    for (const [url, field] of cases) {
      const res = await t.http().get(url).set(reporter);
      expect([url, res.status, res.body.type, res.body.errors?.[0]?.field]).toEqual([url, 400, 'validation-failed', field]);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
  });

  it('refuses text PostgreSQL cannot hold, and over-long values, in every filter', async () => {
    const filters: [string, string][] = [
      ['/articles', 'q'],
      ['/articles', 'topic'],
      ['/articles', 'status'],
      ['/claims', 'topic'],
      ['/claims', 'verdict'],
      ['/audit', 'actor'],
      ['/audit', 'type'],
      ['/audit', 'since'],
      ['/sources', 'q'],
    ];
    for (const [path, field] of filters) {
      for (const value of ['%00', 'a%00b', 'x'.repeat(1001)]) {
        const res = await t.http().get(`${path}?${field}=${value}`).set(reporter);
        expect([path, field, value.slice(0, 12), res.status]).toEqual([path, field, value.slice(0, 12), 400]);
        expect(res.body.errors.map((e: { field: string }) => e.field)).toEqual([field]);
      }
      // Invalid UTF-8 reaches the application as replacement characters, or not at all: never a 5xx.
      expect((await t.http().get(`${path}?${field}=%ED%A0%80%FF`).set(reporter)).status).toBeLessThan(500);
    }
  });

  it('refuses forged cursors on every list with 400 naming the cursor, and follows genuine ones', async () => {
    for (const { path, kind } of LISTS()) {
      const first = await t.http().get(`${path}?limit=1`).set(reporter);
      expect([path, first.status]).toEqual([path, 200]);
      expect([path, typeof first.body.nextCursor]).toEqual([path, 'string']);
      expect((await t.http().get(`${path}?limit=1&cursor=${first.body.nextCursor}`).set(reporter)).status).toBe(200);
      const keys = kind === 'topics' ? FORGED_KEYS : [...FORGED_KEYS, ...FORGED_POSITIONS];
      const forged = [...keys.map((key) => cursorOf([kind, key])), cursorOf(['another-list', '1']), cursorOf('{not json'), 'not*base64', 'A'.repeat(1001)];
      for (const cursor of forged) {
        const res = await t.http().get(`${path}?cursor=${encodeURIComponent(cursor)}`).set(reporter);
        const key = JSON.stringify(Buffer.from(cursor, 'base64url').toString('utf8')).slice(0, 60);
        expect([path, key, res.status, res.body.errors?.[0]?.field]).toEqual([path, key, 400, 'cursor']);
      }
    }
  });

  it('takes only real calendar dates and times in since and until', async () => {
    for (const bad of ['2024-02-30', '2023-02-29', '2024-13-01', '2024-04-31', '2024-00-10', '2024-05-01T24:00:00Z', '2024-05-01T12:60Z', '2024-05-01T12:00:61Z', '2024-05-01T12:00:00+15:00', '2024-5-1']) {
      const res = await t.http().get(`/audit?since=${encodeURIComponent(bad)}`).set(reporter);
      expect([bad, res.status, res.body.errors?.[0]?.field]).toEqual([bad, 400, 'since']);
    }
    for (const good of ['2024-02-29', '2024-05-01T12:00:00Z', '2024-05-01T12:00:00.123456+02:00', '2024-12-31T23:59:59-14:00']) {
      const res = await t.http().get(`/audit?until=${encodeURIComponent(good)}`).set(reporter);
      expect([good, res.status]).toEqual([good, 200]);
    }
  });

  it('counts text made only of invisible characters as blank (400), and keeps text that shows something', async () => {
    const blanks = ['\u200b', '\u200b\u200c\u200d\ufeff', '\u2060 \u00ad', '\u200e\u200f', '\u3164', '\u2800', '\u034f\ufe0f'];
    for (const blank of blanks) {
      const res = await t.http().post('/articles').set(reporter).send({ headline: blank, body: 'B' });
      expect([JSON.stringify(blank), res.status, res.body.errors?.[0]?.field]).toEqual([JSON.stringify(blank), 400, 'headline']);
      const source = await t.http().post('/sources').set(reporter).send({ name: blank, kind: 'person' });
      expect([source.status, source.body.errors?.[0]?.field]).toEqual([400, 'name']);
      const quote = await t.http().post(`/articles/${articleId}/quotes`).set(reporter).send({ text: 'we will rebuild it', speaker: blank });
      expect([quote.status, quote.body.errors?.[0]?.field]).toEqual([400, 'speaker']);
    }
    expect((await t.http().post('/articles').set(reporter).send({ headline: 'A\u200bB', body: 'B' })).status).toBe(201);
  });

  it('hints at typographic look-alikes when they are all that keeps a quote from matching the body', async () => {
    const res = await t.http().post(`/articles/${articleId}/quotes`).set(reporter).send({ text: `It's a long-term plan - and`, speaker: 'Jane' });
    expect([res.status, res.body.type]).toEqual([422, 'quote-not-in-body']);
    expect(res.body.hint).toEqual({
      kind: 'typographic-look-alikes',
      bodyText: 'It’s a long-term plan — and',
      differences: [
        { quote: "'", body: '’' },
        { quote: '-', body: '—' },
      ],
    });
    expect(res.body.detail).toContain('It’s a long-term plan — and');
    // The passage the hint gives is a quote the body holds.
    expect((await t.http().post(`/articles/${articleId}/quotes`).set(reporter).send({ text: res.body.hint.bodyText, speaker: 'Jane' })).status).toBe(201);
    const straight = await t.http().post(`/articles/${articleId}/quotes`).set(reporter).send({ text: '"we will rebuild it"', speaker: 'Jane' });
    expect(straight.body.hint.differences).toEqual([
      { quote: '"', body: '“' },
      { quote: '"', body: '”' },
    ]);
    const absent = await t.http().post(`/articles/${articleId}/quotes`).set(reporter).send({ text: 'we will tear it down', speaker: 'Jane' });
    expect([absent.status, absent.body.type, absent.body.hint]).toEqual([422, 'quote-not-in-body', undefined]);
  });

  it('writes "an approved" and "an in_review", not "a approved"', async () => {
    const draft = (await t.http().post('/articles').set(reporter).send({ headline: 'Draft', body: 'B' })).body.id;
    const publish = await t.http().post(`/articles/${draft}/publication`).set(editor);
    expect([publish.status, publish.body.detail]).toEqual([409, expect.stringContaining('only an approved article can become published')]);
    const approve = await t.http().post(`/articles/${draft}/approval`).set(editor);
    expect(approve.body.detail).toContain('only an in_review article can become approved');
    const submit = await t.http().post(`/articles/${articleId}/submission`).set(reporter);
    expect(submit.status).toBe(200);
    const again = await t.http().post(`/articles/${articleId}/submission`).set(reporter);
    expect(again.body.detail).toContain('only a draft article can become in_review');
  });

  it('says what is wrong with a field once, and lists at most 20 errors of a body with hundreds', async () => {
    const missing = await t.http().post('/articles').set(reporter).send({});
    expect(missing.body.errors).toEqual([
      { field: 'headline', message: 'headline is required' },
      { field: 'body', message: 'body is required' },
    ]);
    const wrongType = await t.http().post('/articles').set(reporter).send({ headline: 7, body: 'B' });
    expect(wrongType.body.errors).toEqual([{ field: 'headline', message: 'headline must be a string' }]);
    const many = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`extra${i}`, i]));
    const res = await t.http().post('/articles').set(reporter).send({ headline: 'H', body: 'B', ...many });
    expect([res.status, res.body.errors.length, res.body.moreErrors]).toEqual([400, 20, 280]);
    expect(res.body.detail).toMatch(/\(and 280 more errors\)$/);
    const longName = await t.http().post('/articles').set(reporter).send({ headline: 'H', body: 'B', ['k'.repeat(100_000)]: 1 });
    expect([longName.status, longName.text.length < 2000]).toEqual([400, true]);
  });

  it('refuses a body holding more than 1000 values before anything walks it, with a short answer', async () => {
    const hostile = Object.fromEntries(Array.from({ length: 80_000 }, (_, i) => [`p${i}`, 0]));
    const res = await t.http().post('/articles').set(reporter).send(hostile);
    expect([res.status, res.body.errors]).toEqual([400, [{ field: '(body)', message: 'the body must not hold more than 1000 values' }]]);
    const wide = await t.http().post(`/articles/${articleId}/claims/${articleId}/verdict`).set(checker).send({ verdict: 'false', evidence: Array.from({ length: 600 }, () => ({ note: 'n' })) });
    expect([wide.status, wide.body.errors[0].field]).toEqual([400, '(body)']);
  });
});
