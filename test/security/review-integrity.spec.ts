import { Role } from '../../src/newsroom/actor';
import { startTestApp, TestApp } from '../support/app';

/**
 * The review bypasses a red-team run found, replayed over HTTP: content changed after approval was
 * published unreviewed, a reporter cut an attributed quote out of live copy, and an editor who wrote
 * the copy approved it.
 */
describe('review integrity over HTTP', () => {
  let t: TestApp;
  const auth = (roles: Role[], id: string) => ({ authorization: `Bearer ${t.token(roles, id)}` });
  const reporter = () => auth(['reporter'], 'rita');
  const editor = () => auth(['editor'], 'ed');
  const otherEditor = () => auth(['editor'], 'edna');
  const QUOTE = 'we will rebuild it';
  const BODY = `The council voted to close the bridge.\n\nThe mayor said “${QUOTE}” on Tuesday.`;

  let sourceId: string;
  let otherSourceId: string;

  beforeAll(async () => {
    t = await startTestApp();
    sourceId = (await t.http().post('/sources').set(reporter()).send({ name: 'Jane Doe', kind: 'person' })).body.id;
    otherSourceId = (await t.http().post('/sources').set(reporter()).send({ name: 'John Roe', kind: 'person' })).body.id;
  });
  afterAll(async () => {
    await t.close();
  });

  const events = (id: string) => t.runtime.eventStore.readStream(`article-${id}`);
  const status = async (id: string, position: string) =>
    (await t.http().get(`/articles/${id}`).set(reporter()).set('x-wait-for-position', position)).body.status as string;

  /** A reporter's article with one attributed quote, submitted and approved by `ed`. */
  async function approvedArticle(): Promise<{ id: string; quoteId: string }> {
    const id = (await t.http().post('/articles').set(reporter()).send({ headline: 'Bridge to close', body: BODY })).body.id as string;
    const quoteId = (await t.http().post(`/articles/${id}/quotes`).set(reporter()).send({ text: QUOTE, speaker: 'Jane Doe' })).body.quoteId as string;
    expect((await t.http().post(`/articles/${id}/quotes/${quoteId}/attribution`).set(reporter()).send({ sourceId, method: 'interview' })).status).toBe(200);
    expect((await t.http().post(`/articles/${id}/submission`).set(reporter())).status).toBe(200);
    expect((await t.http().post(`/articles/${id}/approval`).set(editor())).status).toBe(200);
    return { id, quoteId };
  }

  async function publishedArticle(): Promise<{ id: string; quoteId: string }> {
    const article = await approvedArticle();
    expect((await t.http().post(`/articles/${article.id}/publication`).set(editor())).status).toBe(200);
    return article;
  }

  it('a reporter who changes an approved article sends it back to draft; it cannot be published until reviewed again', async () => {
    const { id, quoteId } = await approvedArticle();
    const headline = await t.http().put(`/articles/${id}/headline`).set(reporter()).send({ headline: 'Bridge to close for good' });
    expect(headline.status).toBe(200);
    expect(await status(id, headline.body.position)).toBe('draft');
    const log = await events(id);
    expect(log.slice(-2).map((e) => [e.type, e.data])).toEqual([
      ['HeadlineChanged', { headline: 'Bridge to close for good', by: 'rita' }],
      ['ArticleReturnedToDraft', { from: 'approved' }],
    ]);
    expect(headline.body.revision).toBe(log[log.length - 1].revision);

    const unreviewed = await t.http().post(`/articles/${id}/publication`).set(editor());
    expect([unreviewed.status, unreviewed.body.type]).toEqual([409, 'invalid-transition']);

    // The re-attribution of the attack, on the resubmitted article, sends it back again.
    expect((await t.http().post(`/articles/${id}/submission`).set(reporter())).status).toBe(200);
    const reattributed = await t.http().post(`/articles/${id}/quotes/${quoteId}/attribution`).set(reporter()).send({ sourceId: otherSourceId, method: 'statement' });
    expect(reattributed.status).toBe(200);
    expect(await status(id, reattributed.body.position)).toBe('draft');
    expect((await t.http().post(`/articles/${id}/approval`).set(editor())).body.type).toBe('invalid-transition');

    expect((await t.http().post(`/articles/${id}/submission`).set(reporter())).status).toBe(200);
    expect((await t.http().post(`/articles/${id}/approval`).set(editor())).status).toBe(200);
    expect((await t.http().post(`/articles/${id}/publication`).set(editor())).status).toBe(200);
  });

  it("a reporter's PUT /body on a published article is 403, with or without a reason, and appends nothing", async () => {
    const { id } = await publishedArticle();
    const before = (await events(id)).length;
    const typo = await t.http().put(`/articles/${id}/body`).set(reporter()).send({ body: 'The council voted to close the bridge.', reason: 'typo' });
    expect([typo.status, typo.body.type]).toEqual([403, 'forbidden']);
    const headline = await t.http().put(`/articles/${id}/headline`).set(reporter()).send({ headline: 'Changed', reason: 'typo' });
    expect([headline.status, headline.body.type]).toEqual([403, 'forbidden']);
    expect(await events(id)).toHaveLength(before);
  });

  it("an editor's body change that drops an attributed live quote is 409 publish-blocked; withdrawing the quote first lets it through", async () => {
    const { id, quoteId } = await publishedArticle();
    const before = (await events(id)).length;
    const cut = 'The council voted to close the bridge.';
    const blocked = await t.http().put(`/articles/${id}/body`).set(editor()).send({ body: cut, reason: 'tighten' });
    expect([blocked.status, blocked.body.type]).toEqual([409, 'publish-blocked']);
    expect(blocked.body.blockers).toEqual([expect.objectContaining({ kind: 'quote-not-in-body', quoteId })]);
    expect(await events(id)).toHaveLength(before);

    const noReason = await t.http().put(`/articles/${id}/headline`).set(editor()).send({ headline: 'Bridge closed' });
    expect([noReason.status, noReason.body.type]).toEqual([422, 'reason-required']);
    const reattributed = await t.http().post(`/articles/${id}/quotes/${quoteId}/attribution`).set(editor()).send({ sourceId: otherSourceId, method: 'statement' });
    expect([reattributed.status, reattributed.body.type]).toEqual([422, 'reason-required']);

    expect((await t.http().post(`/articles/${id}/quotes/${quoteId}/withdrawal`).set(editor()).send({ reason: 'could not be confirmed' })).status).toBe(200);
    const revised = await t.http().put(`/articles/${id}/body`).set(editor()).send({ body: cut, reason: 'quote withdrawn' });
    expect(revised.status).toBe(200);
    const article = await t.http().get(`/articles/${id}`).set(reporter()).set('x-wait-for-position', revised.body.position);
    expect(article.body).toMatchObject({ status: 'published', body: cut, quotes: [{ id: quoteId, status: 'withdrawn' }] });
  });

  it('an editor who drafted the article, or changed it, cannot approve it: 403 four-eyes', async () => {
    const drafted = (await t.http().post('/articles').set(editor()).send({ headline: 'Editor drafts', body: 'Copy.' })).body.id as string;
    expect((await t.http().post(`/articles/${drafted}/submission`).set(reporter())).status).toBe(200);
    const own = await t.http().post(`/articles/${drafted}/approval`).set(editor());
    expect([own.status, own.body.type]).toEqual([403, 'four-eyes']);
    expect((await t.http().post(`/articles/${drafted}/approval`).set(otherEditor())).status).toBe(200);

    const changed = (await t.http().post('/articles').set(reporter()).send({ headline: 'Reporter drafts', body: 'Copy.' })).body.id as string;
    expect((await t.http().post(`/articles/${changed}/submission`).set(reporter())).status).toBe(200);
    expect((await t.http().put(`/articles/${changed}/headline`).set(editor()).send({ headline: 'Editor sharpens' })).status).toBe(200);
    expect((await t.http().post(`/articles/${changed}/submission`).set(reporter())).status).toBe(200);
    const changer = await t.http().post(`/articles/${changed}/approval`).set(editor());
    expect([changer.status, changer.body.type]).toEqual([403, 'four-eyes']);
    expect((await t.http().post(`/articles/${changed}/approval`).set(otherEditor())).status).toBe(200);
  });
});
