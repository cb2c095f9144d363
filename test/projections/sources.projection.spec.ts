import { sourcesProjection } from '../../projections/sources.projection';
import { ModelHarness, StreamBuilder, modelHarness } from '../support/projection-harness';
import { ReadSideDb, readSideDb } from '../support/read-side';

describe('sources projection', () => {
  let rs: ReadSideDb;
  let m: ModelHarness;

  beforeAll(async () => {
    rs = await readSideDb();
  });
  afterAll(async () => {
    await rs.close();
  });
  beforeEach(async () => {
    m = await modelHarness(rs.pool, sourcesProjection);
  });
  afterEach(async () => {
    await m.drop();
  });

  const registered = (s: StreamBuilder, name = 'Jane Doe') =>
    s.event('SourceRegistered', { sourceId: s.id, name, kind: 'person', title: 'Engineer', organization: null });

  it('SourceRegistered adds the source at its stream revision', async () => {
    const s = StreamBuilder.source();
    await m.given(registered(s));
    expect(await m.rows('SELECT id, name, kind, title, organization, revision FROM {sources}')).toEqual([
      { id: s.id, name: 'Jane Doe', kind: 'person', title: 'Engineer', organization: null, revision: 0 },
    ]);
  });

  it('SourceUpdated changes only the fields it carries (title may become null) and moves the revision', async () => {
    const s = StreamBuilder.source();
    await m.given(registered(s), s.event('SourceUpdated', { organization: 'Bridge Works' }));
    expect(await m.rows('SELECT name, title, organization, revision FROM {sources}')).toEqual([
      { name: 'Jane Doe', title: 'Engineer', organization: 'Bridge Works', revision: 1 },
    ]);
    await m.given(s.event('SourceUpdated', { name: 'Jane Q. Doe', title: null }));
    expect(await m.rows('SELECT name, title, organization, revision FROM {sources}')).toEqual([
      { name: 'Jane Q. Doe', title: null, organization: 'Bridge Works', revision: 2 },
    ]);
  });

  it('ArticleDrafted and HeadlineChanged keep the article headline that quote lists show', async () => {
    const a = StreamBuilder.article();
    await m.given(a.event('ArticleDrafted', { articleId: a.id, headline: 'First', body: 'b', byline: null, desk: null }));
    expect(await m.rows('SELECT id, headline FROM {articles}')).toEqual([{ id: a.id, headline: 'First' }]);
    await m.given(a.event('HeadlineChanged', { headline: 'Second' }));
    expect(await m.rows('SELECT headline FROM {articles}')).toEqual([{ headline: 'Second' }]);
  });

  it('QuoteAdded tracks the quote text; SourceAttributed files it under the source; a re-attribution moves it; QuoteWithdrawn marks it', async () => {
    const jane = StreamBuilder.source();
    const city = StreamBuilder.source();
    const a = StreamBuilder.article();
    const quoteId = '0a0a0a0a-0000-4000-8000-000000000001';
    await m.given(
      registered(jane),
      registered(city, 'City Hall'),
      a.event('ArticleDrafted', { articleId: a.id, headline: 'H', body: 'b', byline: null, desk: null }),
      a.event('QuoteAdded', { quoteId, text: 'It is safe', speaker: 'Jane', paragraph: 0 }),
    );
    expect(await m.rows('SELECT quote_id, text, status, source_id FROM {quotes}')).toEqual([
      { quote_id: quoteId, text: 'It is safe', status: 'unattributed', source_id: null },
    ]);
    const first = a.event('SourceAttributed', { quoteId, source: { id: jane.id, name: 'Jane Doe', title: null, organization: null }, attribution: 'told us', method: 'interview' });
    await m.given(first);
    expect(await m.rows('SELECT status, source_id, attribution, method, attributed_at::text FROM {quotes}')).toEqual([
      { status: 'attributed', source_id: jane.id, attribution: 'told us', method: 'interview', attributed_at: first.position },
    ]);
    await m.given(a.event('SourceAttributed', { quoteId, source: { id: city.id, name: 'City Hall', title: null, organization: null }, attribution: null, method: 'statement' }));
    expect(await m.rows('SELECT source_id, attribution, method FROM {quotes}')).toEqual([{ source_id: city.id, attribution: null, method: 'statement' }]);
    await m.given(a.event('QuoteWithdrawn', { quoteId, reason: 'cut' }));
    expect(await m.rows('SELECT status, source_id FROM {quotes}')).toEqual([{ status: 'withdrawn', source_id: city.id }]);
  });

  it('refuses a registration without a name (the runner would mark the projection failed there)', async () => {
    const s = StreamBuilder.source();
    await expect(m.given(s.event('SourceRegistered', {}))).rejects.toThrow(/null value/);
  });
});
