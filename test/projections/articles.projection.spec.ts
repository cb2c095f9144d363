import { articlesProjection } from '../../projections/articles.projection';
import { ArticleDocument, ArticleView, articleView, foldArticleStream } from '../../src/newsroom/article/article.view';
import { articleStream } from '../../src/newsroom/article/article.decider';
import { StoreUnavailableError } from '../../src/event-store/event-store';
import { GetArticle, GetArticleHandler } from '../../src/read-store/queries/articles.queries';
import { ReadModels } from '../../src/read-store/read-models';
import { ModelHarness, StreamBuilder, modelHarness } from '../support/projection-harness';
import { Newsroom, writeScenario } from '../support/newsroom';
import { ReadSideDb, readSideDb } from '../support/read-side';

const SNAPSHOT = { id: '6a0b6f3e-3f8a-4d5e-9a49-0d4f1c2b3a41', name: 'Jane Doe', title: 'Engineer', organization: 'Bridge Works' };

describe('articles projection', () => {
  let rs: ReadSideDb;
  let m: ModelHarness;

  beforeAll(async () => {
    rs = await readSideDb();
  });
  afterAll(async () => {
    await rs.close();
  });
  beforeEach(async () => {
    m = await modelHarness(rs.pool, articlesProjection);
  });
  afterEach(async () => {
    await m.drop();
  });

  /** The one article's answer to GET /articles/{id}, from its stored document. */
  async function view(): Promise<ArticleView> {
    const rows = await m.rows<{ doc: ArticleDocument }>('SELECT doc FROM {articles}');
    expect(rows).toHaveLength(1);
    return articleView(rows[0].doc);
  }

  function drafted(a = StreamBuilder.article()) {
    return {
      a,
      event: a.event('ArticleDrafted', { articleId: a.id, headline: 'Bridge reopens', body: 'One "safe" line.\n\nTwo "more" lines.', byline: 'A. R.', desk: 'City' }),
    };
  }

  it('ArticleDrafted stores a draft with its revision and timestamps; a second draft event changes nothing but the revision', async () => {
    const { a, event } = drafted();
    await m.given(event);
    expect(await m.rows('SELECT id, status, created_position::text FROM {articles}')).toEqual([{ id: a.id, status: 'draft', created_position: event.position }]);
    expect(await view()).toMatchObject({
      id: a.id,
      headline: 'Bridge reopens',
      byline: 'A. R.',
      desk: 'City',
      status: 'draft',
      revision: 0,
      createdAt: event.metadata.occurredAt,
      updatedAt: event.metadata.occurredAt,
      publishedAt: null,
    });
    const again = a.event('ArticleDrafted', { articleId: a.id, headline: 'Other', body: 'x', byline: null, desk: null });
    await m.given(again);
    expect(await view()).toMatchObject({ headline: 'Bridge reopens', revision: 1, createdAt: event.metadata.occurredAt, updatedAt: again.metadata.occurredAt });
  });

  it('HeadlineChanged replaces the headline and moves revision and updatedAt', async () => {
    const { a, event } = drafted();
    const changed = a.event('HeadlineChanged', { headline: 'Bridge reopens at last', reason: 'typo' });
    await m.given(event, changed);
    expect(await view()).toMatchObject({ headline: 'Bridge reopens at last', revision: 1, updatedAt: changed.metadata.occurredAt });
  });

  it('QuoteAdded adds an unattributed quote in the body; events for an unknown article are ignored', async () => {
    const { a, event } = drafted();
    await m.given(event, a.event('QuoteAdded', { quoteId: 'c5a1e0d2-0000-4000-8000-000000000001', text: 'more', speaker: 'Jo', paragraph: 1 }));
    await m.given(StreamBuilder.article().event('QuoteAdded', { quoteId: 'c5a1e0d2-0000-4000-8000-000000000002', text: 'x', speaker: 'Y', paragraph: 0 }));
    expect((await view()).quotes).toEqual([
      { id: 'c5a1e0d2-0000-4000-8000-000000000001', text: 'more', speaker: 'Jo', paragraph: 1, status: 'unattributed', inBody: true, source: null, attribution: null, method: null },
    ]);
  });

  it('SourceAttributed stores the source snapshot, attribution and method; a re-attribution replaces them', async () => {
    const { a, event } = drafted();
    const quoteId = 'c5a1e0d2-0000-4000-8000-000000000003';
    await m.given(
      event,
      a.event('QuoteAdded', { quoteId, text: 'safe', speaker: 'Jane', paragraph: 0 }),
      a.event('SourceAttributed', { quoteId, source: { ...SNAPSHOT, id: 'ffffffff-0000-4000-8000-000000000000' }, attribution: null, method: 'wire' }),
      a.event('SourceAttributed', { quoteId, source: SNAPSHOT, attribution: 'told the Daily', method: 'interview' }),
    );
    expect((await view()).quotes).toMatchObject([{ status: 'attributed', source: SNAPSHOT, attribution: 'told the Daily', method: 'interview' }]);
  });

  it('QuoteWithdrawn marks the quote withdrawn and keeps its attribution', async () => {
    const { a, event } = drafted();
    const quoteId = 'c5a1e0d2-0000-4000-8000-000000000004';
    await m.given(
      event,
      a.event('QuoteAdded', { quoteId, text: 'safe', speaker: 'Jane', paragraph: 0 }),
      a.event('SourceAttributed', { quoteId, source: SNAPSHOT, attribution: null, method: 'statement' }),
      a.event('QuoteWithdrawn', { quoteId, reason: 'cut' }),
    );
    expect((await view()).quotes).toMatchObject([{ status: 'withdrawn', source: SNAPSHOT }]);
  });

  it('BodyRevised replaces the body, finds live quotes again (paragraph, inBody) and leaves withdrawn ones alone', async () => {
    const { a, event } = drafted();
    const [kept, gone, withdrawn] = ['01', '02', '03'].map((n) => `c5a1e0d2-0000-4000-8000-0000000000${n}`);
    await m.given(
      event,
      a.event('QuoteAdded', { quoteId: kept, text: 'safe', speaker: 'A', paragraph: 0 }),
      a.event('QuoteAdded', { quoteId: gone, text: 'more', speaker: 'B', paragraph: 1 }),
      a.event('QuoteAdded', { quoteId: withdrawn, text: 'lines', speaker: 'C', paragraph: 1 }),
      a.event('QuoteWithdrawn', { quoteId: withdrawn, reason: 'cut' }),
      a.event('BodyRevised', { body: 'New opening.\n\nStill "safe" here.', returnedToDraft: false }),
    );
    const article = await view();
    expect(article.quotes.map(({ id, paragraph, inBody, status }) => ({ id, paragraph, inBody, status }))).toEqual([
      { id: kept, paragraph: 1, inBody: true, status: 'unattributed' },
      { id: gone, paragraph: 1, inBody: false, status: 'unattributed' },
      { id: withdrawn, paragraph: 1, inBody: true, status: 'withdrawn' },
    ]);
    expect(article).toMatchObject({ body: 'New opening.\n\nStill "safe" here.', status: 'draft', revision: 5 });
  });

  it('BodyRevised with returnedToDraft sends an in-review article back to draft', async () => {
    const { a, event } = drafted();
    await m.given(event, a.event('ArticleSubmitted', { submittedBy: 'reporter-1' }));
    expect(await m.rows('SELECT status FROM {articles}')).toEqual([{ status: 'in_review' }]);
    await m.given(a.event('BodyRevised', { body: 'Changed.', returnedToDraft: true }));
    expect(await m.rows('SELECT status FROM {articles}')).toEqual([{ status: 'draft' }]);
    expect((await view()).status).toBe('draft');
  });

  it('ArticleReturnedToDraft sends an approved article back to draft, moving its revision', async () => {
    const { a, event } = drafted();
    await m.given(event, a.event('ArticleSubmitted', { submittedBy: 'reporter-1' }), a.event('ArticleApproved', { approvedBy: 'editor-1' }));
    await m.given(a.event('HeadlineChanged', { headline: 'Changed', by: 'reporter-1' }), a.event('ArticleReturnedToDraft', { from: 'approved' }));
    expect(await view()).toMatchObject({ status: 'draft', headline: 'Changed', revision: 4 });
  });

  it('TopicTagged adds a topic once, in tagging order; TopicUntagged removes it', async () => {
    const { a, event } = drafted();
    await m.given(
      event,
      a.event('TopicTagged', { slug: 'roads', label: 'Roads' }),
      a.event('TopicTagged', { slug: 'city', label: 'City' }),
      a.event('TopicTagged', { slug: 'roads', label: 'ROADS' }),
    );
    expect((await view()).topics).toEqual([
      { slug: 'roads', label: 'Roads' },
      { slug: 'city', label: 'City' },
    ]);
    await m.given(a.event('TopicUntagged', { slug: 'roads' }));
    expect(await view()).toMatchObject({ topics: [{ slug: 'city', label: 'City' }], revision: 4 });
  });

  it('ClaimRecorded adds an unchecked claim; ClaimVerdictRecorded sets the current verdict, evidence, note and who checked when', async () => {
    const { a, event } = drafted();
    const claimId = 'c1a1e0d2-0000-4000-8000-000000000001';
    await m.given(event, a.event('ClaimRecorded', { claimId, text: 'It is safe', quoteId: null }));
    expect((await view()).claims).toEqual([
      { id: claimId, text: 'It is safe', quoteId: null, verdict: null, evidence: [], note: null, checkedBy: null, checkedAt: null },
    ]);
    const checker = new StreamBuilder(a.streamId, { id: 'checker-1', name: 'Fay Checker', roles: ['fact_checker'] });
    // The same stream, continued by another actor: align the revision.
    for (let i = 0; i < 2; i++) checker.event('x', {});
    const first = checker.event('ClaimVerdictRecorded', { claimId, verdict: 'false', evidence: [{ note: 'no' }], note: null });
    const second = checker.event('ClaimVerdictRecorded', { claimId, verdict: 'verified', evidence: [{ url: 'https://e.org/r', note: 'report' }], note: 'ok' });
    await m.given(first, second);
    expect((await view()).claims).toMatchObject([
      {
        verdict: 'verified',
        evidence: [{ url: 'https://e.org/r', note: 'report' }],
        note: 'ok',
        checkedBy: { id: 'checker-1', name: 'Fay Checker' },
        checkedAt: second.metadata.occurredAt,
      },
    ]);
  });

  it('ArticleSubmitted, ArticleApproved, ArticlePublished, ArticleRetracted move the status; publishedAt is the first publication', async () => {
    const { a, event } = drafted();
    await m.given(event, a.event('ArticleSubmitted', { submittedBy: 'r' }));
    expect((await view()).status).toBe('in_review');
    await m.given(a.event('ArticleApproved', { approvedBy: 'e' }));
    expect((await view()).status).toBe('approved');
    const published = a.event('ArticlePublished', {});
    await m.given(published);
    expect(await view()).toMatchObject({ status: 'published', publishedAt: published.metadata.occurredAt });
    await m.given(a.event('ArticlePublished', {}), a.event('ArticleRetracted', { reason: 'wrong' }));
    expect(await view()).toMatchObject({ status: 'retracted', publishedAt: published.metadata.occurredAt, revision: 5 });
    expect(await m.rows('SELECT status FROM {articles}')).toEqual([{ status: 'retracted' }]);
  });

  it('CorrectionIssued appends a correction with who issued it and when', async () => {
    const { a, event } = drafted();
    const correction = a.event('CorrectionIssued', { text: 'We misnamed the bridge.' });
    await m.given(event, correction);
    expect((await view()).corrections).toEqual([
      { text: 'We misnamed the bridge.', issuedAt: correction.metadata.occurredAt, issuedBy: { id: 'reporter-1', name: 'Rita Reporter' } },
    ]);
  });

  it('refuses an event whose data makes no article: a draft without a headline, a quote or a topic without its text', async () => {
    const a = StreamBuilder.article();
    // Refused even when a later event of the batch would mend it: the outcome cannot depend on where batches are cut.
    await expect(
      m.given(a.event('ArticleDrafted', { articleId: a.id, body: 'x', byline: null, desk: null }), a.event('HeadlineChanged', { headline: 'Mended' })),
    ).rejects.toThrow(/ArticleDrafted at \d+ has no string headline/);
    const { a: b, event } = drafted();
    await m.given(event);
    await expect(m.given(b.event('QuoteAdded', { quoteId: 'c5a1e0d2-0000-4000-8000-000000000001', text: null, speaker: 'Jo', paragraph: 0 }))).rejects.toThrow(/has no string text/);
    await expect(m.given(b.event('TopicTagged', { slug: 'roads' }))).rejects.toThrow(/has no string label/);
    expect((await view()).revision).toBe(0);
  });

  it('keeps the topics the filters use, each topic counted once an article with its first label, down to zero', async () => {
    const { a, event } = drafted();
    const { a: b, event: other } = drafted();
    await m.given(event, a.event('TopicTagged', { slug: 'roads', label: 'Roads' }), other, b.event('TopicTagged', { slug: 'roads', label: 'ROADS' }));
    await m.given(a.event('TopicTagged', { slug: 'roads', label: 'Roads again' }));
    expect(await m.rows('SELECT slug, label, article_count FROM {topics}')).toEqual([{ slug: 'roads', label: 'Roads', article_count: 2 }]);
    expect(await m.rows('SELECT article_id FROM {article_topics} WHERE slug = $1 ORDER BY 1', ['roads'])).toEqual([a.id, b.id].sort().map((article_id) => ({ article_id })));
    // Untagged and tagged again in one batch: still one; then both untagged: zero, the label kept.
    await m.given(a.event('TopicUntagged', { slug: 'roads' }), a.event('TopicTagged', { slug: 'roads', label: 'Other' }));
    await m.given(a.event('TopicUntagged', { slug: 'roads' }), b.event('TopicUntagged', { slug: 'roads' }));
    expect(await m.rows('SELECT slug, label, article_count FROM {topics}')).toEqual([{ slug: 'roads', label: 'Roads', article_count: 0 }]);
    expect(await m.rows('SELECT * FROM {article_topics}')).toEqual([]);
  });

  it('keeps each claim where it was recorded with its current verdict, for the claim lists', async () => {
    const { a, event } = drafted();
    const claimId = 'c1a1e0d2-0000-4000-8000-000000000011';
    const recorded = a.event('ClaimRecorded', { claimId, text: 'It cost 4m.', quoteId: null });
    await m.given(event, recorded);
    expect(await m.rows('SELECT claim_id, seq::text, verdict FROM {article_claims}')).toEqual([{ claim_id: claimId, seq: recorded.position, verdict: null }]);
    await m.given(a.event('ClaimVerdictRecorded', { claimId, verdict: 'false', evidence: [{ note: 'budget' }], note: null }));
    await m.given(a.event('ClaimVerdictRecorded', { claimId, verdict: 'misleading', evidence: [{ note: 'minutes' }], note: null }));
    expect(await m.rows('SELECT claim_id, seq::text, verdict FROM {article_claims}')).toEqual([{ claim_id: claimId, seq: recorded.position, verdict: 'misleading' }]);
  });

  it('files each attributed quote under its source, where it was last attributed; a withdrawn one stays there', async () => {
    const { a, event } = drafted();
    const quoteId = '0a0a0a0a-0000-4000-8000-000000000001';
    const city = { id: '6a0b6f3e-3f8a-4d5e-9a49-0d4f1c2b3a42', name: 'City Hall', title: null, organization: null };
    await m.given(event, a.event('QuoteAdded', { quoteId, text: 'safe', speaker: 'Jane', paragraph: 0 }));
    expect(await m.rows('SELECT * FROM {article_quotes}')).toEqual([]);
    const first = a.event('SourceAttributed', { quoteId, source: SNAPSHOT, attribution: 'told us', method: 'interview' });
    await m.given(first);
    expect(await m.rows('SELECT quote_id, source_id, attributed_at::text FROM {article_quotes}')).toEqual([{ quote_id: quoteId, source_id: SNAPSHOT.id, attributed_at: first.position }]);
    const second = a.event('SourceAttributed', { quoteId, source: city, attribution: null, method: 'statement' });
    await m.given(second, a.event('QuoteWithdrawn', { quoteId, reason: 'cut' }));
    expect(await m.rows('SELECT quote_id, source_id, attributed_at::text FROM {article_quotes}')).toEqual([{ quote_id: quoteId, source_id: city.id, attributed_at: second.position }]);
    expect((await view()).quotes[0]).toMatchObject({ status: 'withdrawn', source: { id: city.id } });
  });

  it('an event delivered again (at or below the stored revision) changes nothing', async () => {
    const { a, event } = drafted();
    const correction = a.event('CorrectionIssued', { text: 'We misnamed the bridge.' });
    const tagged = a.event('TopicTagged', { slug: 'roads', label: 'Roads' });
    await m.given(event, correction, tagged);
    const before = await view();
    await m.given(correction, tagged);
    await m.given(event);
    expect(await view()).toEqual(before);
    expect(before.corrections).toHaveLength(1);
  });

  it('run by the runner over real command-side events, answers GET /articles/{id} exactly as the document folded from the stream shows it; never from tables of version 1', async () => {
    const scenario = await writeScenario(new Newsroom(rs.store), 3);
    const runner = rs.runner();
    await runner.start();
    expect((await runner.waitForPosition(scenario.last.position, 10_000)).reached).toBe(true);
    const handler = new GetArticleHandler(new ReadModels(rs.pool));
    for (const id of scenario.articleIds) {
      const view = articleView(foldArticleStream(await rs.store.readStream(articleStream(id)))!);
      const { value } = await handler.execute(new GetArticle(id));
      expect(JSON.stringify(value)).toBe(JSON.stringify(view));
    }
    const [first] = scenario.articleIds;
    const { value } = await handler.execute(new GetArticle(first));
    expect(value.quotes.map((q) => [q.status, q.inBody])).toEqual([
      ['attributed', true],
      ['withdrawn', false],
    ]);
    await runner.stop();

    // Version 1 stored rows, not documents: until a rebuild swaps the documents in, reads answer unavailable.
    const id = first;
    await rs.pool.query(`UPDATE projection_status SET version = 1 WHERE name = 'articles'`);
    await expect(handler.execute(new GetArticle(id))).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(handler.execute(new GetArticle(id))).rejects.toMatchObject({ explanation: expect.stringMatching(/articles read model is being rebuilt/) });
    await rs.pool.query(`UPDATE projection_status SET version = $1 WHERE name = 'articles'`, [articlesProjection.version]);
    await expect(handler.execute(new GetArticle(id))).resolves.toMatchObject({ value: { id } });
  });
});
