import { topicsProjection } from '../../projections/topics.projection';
import { ModelHarness, StreamBuilder, modelHarness } from '../support/projection-harness';
import { ReadSideDb, readSideDb } from '../support/read-side';

describe('topics projection', () => {
  let rs: ReadSideDb;
  let m: ModelHarness;

  beforeAll(async () => {
    rs = await readSideDb();
  });
  afterAll(async () => {
    await rs.close();
  });
  beforeEach(async () => {
    m = await modelHarness(rs.pool, topicsProjection);
  });
  afterEach(async () => {
    await m.drop();
  });

  it('TopicTagged counts each article once and keeps the first label', async () => {
    const a = StreamBuilder.article();
    const b = StreamBuilder.article();
    await m.given(
      a.event('TopicTagged', { slug: 'roads', label: 'Roads' }),
      a.event('TopicTagged', { slug: 'roads', label: 'Roads' }),
      b.event('TopicTagged', { slug: 'roads', label: 'ROADS' }),
      b.event('TopicTagged', { slug: 'city', label: 'City' }),
    );
    expect(await m.rows('SELECT slug, label, article_count FROM {topics} ORDER BY slug')).toEqual([
      { slug: 'city', label: 'City', article_count: 1 },
      { slug: 'roads', label: 'Roads', article_count: 2 },
    ]);
  });

  it('TopicUntagged uncounts the article (only if it was tagged) and keeps the topic at zero', async () => {
    const a = StreamBuilder.article();
    const b = StreamBuilder.article();
    await m.given(
      a.event('TopicTagged', { slug: 'roads', label: 'Roads' }),
      b.event('TopicUntagged', { slug: 'roads' }),
      a.event('TopicUntagged', { slug: 'roads' }),
      a.event('TopicUntagged', { slug: 'roads' }),
    );
    expect(await m.rows('SELECT slug, article_count FROM {topics}')).toEqual([{ slug: 'roads', article_count: 0 }]);
    expect(await m.rows('SELECT * FROM {taggings}')).toEqual([]);
  });
});
