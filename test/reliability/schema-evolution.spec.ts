import { randomUUID } from 'node:crypto';
import { eventHash } from '../../src/newsroom/hash-chain';
import { startTestApp, TestApp } from '../support/app';

/**
 * A version-1 TopicTagged (label only, as it was once written) stored in the log, then read through
 * every path: the command handler's fold, the projections, time travel and the diff.
 */
describe('schema evolution: a stored version-1 event on every read path', () => {
  let t: TestApp;
  const reporter = () => ({ authorization: `Bearer ${t.token(['reporter'], 'r-1')}` });

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('upcasts TopicTagged v1 for the command side, the read models, time travel and diffs', async () => {
    const drafted = await t.http().post('/articles').set(reporter()).send({ headline: 'Old tag', body: 'Body.' });
    const id = drafted.body.id;
    const stream = `article-${id}`;
    const [first] = await t.runtime.eventStore.readStream(stream);
    const metadata: Record<string, unknown> = {
      actor: { id: 'r-0', name: 'Archive import', roles: ['reporter'] },
      commandId: randomUUID(),
      occurredAt: '2019-05-01T09:00:00.000Z',
      schemaVersion: 1,
      previousHash: first.metadata.hash,
    };
    const data = { label: 'Climate Change' };
    metadata.hash = eventHash({ streamId: stream, revision: 1, type: 'TopicTagged', data, metadata });
    const old = await t.runtime.eventStore.appendToStream(stream, [{ id: randomUUID(), type: 'TopicTagged', data, metadata }], { expectedRevision: 0 });

    const article = await t.http().get(`/articles/${id}`).set(reporter()).set('x-wait-for-position', old.position);
    expect(article.body.topics).toEqual([{ slug: 'climate-change', label: 'Climate Change' }]);
    const topics = await t.http().get('/topics').set(reporter()).set('x-wait-for-position', old.position);
    expect(topics.body.items).toContainEqual(expect.objectContaining({ slug: 'climate-change', articleCount: 1 }));
    const past = await t.http().get(`/articles/${id}/revisions/1`).set(reporter());
    expect(past.body.topics).toEqual([{ slug: 'climate-change', label: 'Climate Change' }]);
    const diff = await t.http().get(`/articles/${id}/diff?from=0&to=1`).set(reporter());
    expect(diff.body.topics.added).toEqual([expect.objectContaining({ slug: 'climate-change' })]);

    // The command side folds it too: the tag exists (no-op), and can be removed by its slug.
    const again = await t.http().post(`/articles/${id}/topics`).set(reporter()).send({ topic: 'climate change' });
    expect([again.status, again.body.revision]).toEqual([200, 1]);
    const untagged = await t.http().delete(`/articles/${id}/topics/climate-change`).set(reporter());
    expect(untagged.status).toBe(200);
    const [, , removed] = await t.runtime.eventStore.readStream(stream);
    expect(removed).toMatchObject({ type: 'TopicUntagged', data: { slug: 'climate-change' } });
    // New TopicTagged events are written at the current version.
    const tagged = await t.http().post(`/articles/${id}/topics`).set(reporter()).send({ topic: 'Energy' });
    const [, , , current] = await t.runtime.eventStore.readStream(stream);
    expect([tagged.status, current.metadata.schemaVersion, current.data]).toEqual([201, 2, { slug: 'energy', label: 'Energy' }]);
    const verify = await t.http().get(`/articles/${id}/audit/verify`).set(reporter());
    expect(verify.body.valid).toBe(true);
  });
});
