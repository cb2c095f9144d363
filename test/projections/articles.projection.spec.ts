import { articlesProjection } from '../../projections/articles.projection';
import { articleView, foldArticleStream } from '../../src/newsroom/article/article.view';
import { articleStream } from '../../src/newsroom/article/article.decider';
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

  function drafted(a = StreamBuilder.article()) {
    return {
      a,
      event: a.event('ArticleDrafted', { articleId: a.id, headline: 'Bridge reopens', body: 'One "safe" line.\n\nTwo "more" lines.', byline: 'A. R.', desk: 'City' }),
    };
  }

  it('ArticleDrafted inserts a draft with its revision and timestamps; a second draft event changes nothing but the revision', async () => {
    const { a, event } = drafted();
    await m.given(event);
    const [row] = await m.rows('SELECT * FROM {articles}');
    expect(row).toMatchObject({
      id: a.id,
      headline: 'Bridge reopens',
      byline: 'A. R.',
      desk: 'City',
      status: 'draft',
      revision: 0,
      created_at: event.metadata.occurredAt,
      updated_at: event.metadata.occurredAt,
      published_at: null,
    });
    const again = a.event('ArticleDrafted', { articleId: a.id, headline: 'Other', body: 'x', byline: null, desk: null });
    await m.given(again);
    expect(await m.rows('SELECT headline, revision, updated_at FROM {articles}')).toEqual([
      { headline: 'Bridge reopens', revision: 1, updated_at: again.metadata.occurredAt },
    ]);
  });

  it('HeadlineChanged replaces the headline and moves revision and updatedAt', async () => {
    const { a, event } = drafted();
    const changed = a.event('HeadlineChanged', { headline: 'Bridge reopens at last', reason: 'typo' });
    await m.given(event, changed);
    expect(await m.rows('SELECT headline, revision, updated_at FROM {articles}')).toEqual([
      { headline: 'Bridge reopens at last', revision: 1, updated_at: changed.metadata.occurredAt },
    ]);
  });

  it('QuoteAdded adds an unattributed quote in the body; events for an unknown article are ignored', async () => {
    const { a, event } = drafted();
    await m.given(event, a.event('QuoteAdded', { quoteId: 'c5a1e0d2-0000-4000-8000-000000000001', text: 'more', speaker: 'Jo', paragraph: 1 }));
    await m.given(StreamBuilder.article().event('QuoteAdded', { quoteId: 'c5a1e0d2-0000-4000-8000-000000000002', text: 'x', speaker: 'Y', paragraph: 0 }));
    expect(await m.rows('SELECT id, text, speaker, paragraph, status, in_body, source, attribution, method FROM {quotes}')).toEqual([
      { id: 'c5a1e0d2-0000-4000-8000-000000000001', text: 'more', speaker: 'Jo', paragraph: 1, status: 'unattributed', in_body: true, source: null, attribution: null, method: null },
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
    expect(await m.rows('SELECT status, source, attribution, method FROM {quotes}')).toEqual([
      { status: 'attributed', source: SNAPSHOT, attribution: 'told the Daily', method: 'interview' },
    ]);
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
    expect(await m.rows('SELECT status, source FROM {quotes}')).toEqual([{ status: 'withdrawn', source: SNAPSHOT }]);
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
    expect(await m.rows('SELECT id, paragraph, in_body, status FROM {quotes} ORDER BY seq')).toEqual([
      { id: kept, paragraph: 1, in_body: true, status: 'unattributed' },
      { id: gone, paragraph: 1, in_body: false, status: 'unattributed' },
      { id: withdrawn, paragraph: 1, in_body: true, status: 'withdrawn' },
    ]);
    expect(await m.rows('SELECT body, status, revision FROM {articles}')).toEqual([{ body: 'New opening.\n\nStill "safe" here.', status: 'draft', revision: 5 }]);
  });

  it('BodyRevised with returnedToDraft sends an in-review article back to draft', async () => {
    const { a, event } = drafted();
    await m.given(event, a.event('ArticleSubmitted', { submittedBy: 'reporter-1' }));
    expect(await m.rows('SELECT status FROM {articles}')).toEqual([{ status: 'in_review' }]);
    await m.given(a.event('BodyRevised', { body: 'Changed.', returnedToDraft: true }));
    expect(await m.rows('SELECT status FROM {articles}')).toEqual([{ status: 'draft' }]);
  });

  it('ArticleReturnedToDraft sends an approved article back to draft, moving its revision', async () => {
    const { a, event } = drafted();
    await m.given(event, a.event('ArticleSubmitted', { submittedBy: 'reporter-1' }), a.event('ArticleApproved', { approvedBy: 'editor-1' }));
    await m.given(a.event('HeadlineChanged', { headline: 'Changed', by: 'reporter-1' }), a.event('ArticleReturnedToDraft', { from: 'approved' }));
    expect(await m.rows('SELECT status, headline, revision FROM {articles}')).toEqual([{ status: 'draft', headline: 'Changed', revision: 4 }]);
  });

  it('TopicTagged adds a topic once, in tagging order; TopicUntagged removes it', async () => {
    const { a, event } = drafted();
    await m.given(
      event,
      a.event('TopicTagged', { slug: 'roads', label: 'Roads' }),
      a.event('TopicTagged', { slug: 'city', label: 'City' }),
      a.event('TopicTagged', { slug: 'roads', label: 'ROADS' }),
    );
    expect(await m.rows('SELECT slug, label FROM {topics} ORDER BY seq')).toEqual([
      { slug: 'roads', label: 'Roads' },
      { slug: 'city', label: 'City' },
    ]);
    await m.given(a.event('TopicUntagged', { slug: 'roads' }));
    expect(await m.rows('SELECT slug FROM {topics}')).toEqual([{ slug: 'city' }]);
    expect(await m.rows('SELECT revision FROM {articles}')).toEqual([{ revision: 4 }]);
  });

  it('ClaimRecorded adds an unchecked claim; ClaimVerdictRecorded sets the current verdict, evidence, note and who checked when', async () => {
    const { a, event } = drafted();
    const claimId = 'c1a1e0d2-0000-4000-8000-000000000001';
    await m.given(event, a.event('ClaimRecorded', { claimId, text: 'It is safe', quoteId: null }));
    expect(await m.rows('SELECT text, verdict, evidence, checked_by_id FROM {claims}')).toEqual([
      { text: 'It is safe', verdict: null, evidence: [], checked_by_id: null },
    ]);
    const checker = new StreamBuilder(a.streamId, { id: 'checker-1', name: 'Fay Checker', roles: ['fact_checker'] });
    // The same stream, continued by another actor: align the revision.
    for (let i = 0; i < 2; i++) checker.event('x', {});
    const first = checker.event('ClaimVerdictRecorded', { claimId, verdict: 'false', evidence: [{ note: 'no' }], note: null });
    const second = checker.event('ClaimVerdictRecorded', { claimId, verdict: 'verified', evidence: [{ url: 'https://e.org/r', note: 'report' }], note: 'ok' });
    await m.given(first, second);
    expect(await m.rows('SELECT verdict, evidence, note, checked_by_id, checked_by_name, checked_at FROM {claims}')).toEqual([
      {
        verdict: 'verified',
        evidence: [{ url: 'https://e.org/r', note: 'report' }],
        note: 'ok',
        checked_by_id: 'checker-1',
        checked_by_name: 'Fay Checker',
        checked_at: second.metadata.occurredAt,
      },
    ]);
  });

  it('ArticleSubmitted, ArticleApproved, ArticlePublished, ArticleRetracted move the status; publishedAt is the first publication', async () => {
    const { a, event } = drafted();
    const published = a.event('ArticlePublished', {});
    await m.given(event, a.event('ArticleSubmitted', { submittedBy: 'r' }));
    expect((await m.rows('SELECT status FROM {articles}'))[0]).toEqual({ status: 'in_review' });
    await m.given(a.event('ArticleApproved', { approvedBy: 'e' }));
    expect((await m.rows('SELECT status FROM {articles}'))[0]).toEqual({ status: 'approved' });
    await m.given(published);
    expect((await m.rows('SELECT status, published_at FROM {articles}'))[0]).toEqual({ status: 'published', published_at: published.metadata.occurredAt });
    await m.given(a.event('ArticlePublished', {}), a.event('ArticleRetracted', { reason: 'wrong' }));
    expect((await m.rows('SELECT status, published_at, revision FROM {articles}'))[0]).toEqual({
      status: 'retracted',
      published_at: published.metadata.occurredAt,
      revision: 5,
    });
  });

  it('CorrectionIssued appends a correction with who issued it and when', async () => {
    const { a, event } = drafted();
    const correction = a.event('CorrectionIssued', { text: 'We misnamed the bridge.' });
    await m.given(event, correction);
    expect(await m.rows('SELECT text, issued_at, issued_by_id, issued_by_name FROM {corrections}')).toEqual([
      { text: 'We misnamed the bridge.', issued_at: correction.metadata.occurredAt, issued_by_id: 'reporter-1', issued_by_name: 'Rita Reporter' },
    ]);
  });

  it('run by the runner over real command-side events, answers GET /articles/{id} exactly as the document folded from the stream shows it', async () => {
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
  });
});
