import { claimsProjection } from '../../projections/claims.projection';
import { ModelHarness, StreamBuilder, modelHarness } from '../support/projection-harness';
import { ReadSideDb, readSideDb } from '../support/read-side';

describe('claims projection', () => {
  let rs: ReadSideDb;
  let m: ModelHarness;

  beforeAll(async () => {
    rs = await readSideDb();
  });
  afterAll(async () => {
    await rs.close();
  });
  beforeEach(async () => {
    m = await modelHarness(rs.pool, claimsProjection);
  });
  afterEach(async () => {
    await m.drop();
  });

  const drafted = (a: StreamBuilder, headline = 'Bridge reopens') =>
    a.event('ArticleDrafted', { articleId: a.id, headline, body: 'b', byline: null, desk: null });

  it('ArticleDrafted and HeadlineChanged keep the current headline', async () => {
    const a = StreamBuilder.article();
    await m.given(drafted(a), a.event('HeadlineChanged', { headline: 'Bridge reopens at last' }));
    expect(await m.rows('SELECT id, headline FROM {articles}')).toEqual([{ id: a.id, headline: 'Bridge reopens at last' }]);
  });

  it('TopicTagged and TopicUntagged keep the article topics the topic filter uses', async () => {
    const a = StreamBuilder.article();
    await m.given(drafted(a), a.event('TopicTagged', { slug: 'roads', label: 'Roads' }), a.event('TopicTagged', { slug: 'city', label: 'City' }));
    expect(await m.rows('SELECT slug FROM {article_topics} ORDER BY slug')).toEqual([{ slug: 'city' }, { slug: 'roads' }]);
    await m.given(a.event('TopicUntagged', { slug: 'roads' }));
    expect(await m.rows('SELECT slug FROM {article_topics}')).toEqual([{ slug: 'city' }]);
  });

  it('ClaimRecorded adds an unchecked claim of a known article at its position', async () => {
    const a = StreamBuilder.article();
    const claimId = '0b0b0b0b-0000-4000-8000-000000000001';
    const recorded = a.event('ClaimRecorded', { claimId, text: 'It is safe', quoteId: null });
    await m.given(drafted(a), recorded, StreamBuilder.article().event('ClaimRecorded', { claimId, text: 'orphan', quoteId: null }));
    expect(await m.rows('SELECT article_id, id, seq::text, text, quote_id, verdict, evidence FROM {claims}')).toEqual([
      { article_id: a.id, id: claimId, seq: recorded.position, text: 'It is safe', quote_id: null, verdict: null, evidence: [] },
    ]);
  });

  it('ClaimVerdictRecorded keeps the latest verdict with its evidence, note, checker and time', async () => {
    const a = StreamBuilder.article();
    const claimId = '0b0b0b0b-0000-4000-8000-000000000002';
    const latest = a.event('ClaimVerdictRecorded', { claimId, verdict: 'unverifiable', evidence: [], note: 'no records' });
    await m.given(
      drafted(a),
      a.event('ClaimRecorded', { claimId, text: 'It is safe', quoteId: null }),
      a.event('ClaimVerdictRecorded', { claimId, verdict: 'false', evidence: [{ note: 'x' }], note: null }),
      latest,
    );
    expect(await m.rows('SELECT verdict, evidence, note, checked_by_id, checked_by_name, checked_at FROM {claims}')).toEqual([
      { verdict: 'unverifiable', evidence: [], note: 'no records', checked_by_id: 'reporter-1', checked_by_name: 'Rita Reporter', checked_at: latest.metadata.occurredAt },
    ]);
  });
});
