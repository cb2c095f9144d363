import { randomUUID } from 'node:crypto';
import { projectionsRebuild, projectionsRetry, projectionsSkip } from '../../src/cli/projections.command';
import { startTestApp, TestApp } from '../support/app';
import { tamper } from '../support/tamper';

interface Status {
  name: string;
  status: string;
  position: string | null;
  error: { position: string; eventType: string; streamId: string; message: string } | null;
}

describe('poison events and the operator commands that clear them', () => {
  let t: TestApp;
  const admin = () => ({ authorization: `Bearer ${t.token(['admin'], 'admin-1')}` });
  const reporter = () => ({ authorization: `Bearer ${t.token(['reporter'], 'r-1')}` });
  const silent = { write: () => true };
  const operator = { id: 'cli:operator', name: 'Operator', roles: ['admin' as const] };

  async function statuses(): Promise<Record<string, Status>> {
    const res = await t.http().get('/admin/projections').set(admin());
    return Object.fromEntries((res.body.items as Status[]).map((s) => [s.name, s]));
  }
  async function until(predicate: (s: Record<string, Status>) => boolean, ms = 15000): Promise<Record<string, Status>> {
    const deadline = Date.now() + ms;
    for (;;) {
      const s = await statuses();
      if (predicate(s) || Date.now() > deadline) return s;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('an unknown event type fails only the projections that follow its stream, visibly; skip clears it and is audited', async () => {
    const sourceId = randomUUID();
    const poison = await t.runtime.eventStore.appendToStream(
      `source-${sourceId}`,
      [{ id: randomUUID(), type: 'SourceMerged', data: { into: randomUUID() }, metadata: { occurredAt: new Date().toISOString() } }],
      { expectedRevision: 'no_stream' },
    );
    const after = await t.http().post('/articles').set(reporter()).send({ headline: 'After the poison', body: 'Body.' });

    const failed = await until((s) => s.sources.status === 'failed');
    expect(failed.sources.error).toMatchObject({ position: poison.position, eventType: 'SourceMerged', streamId: `source-${sourceId}` });
    expect(failed.sources.error!.message).toMatch(/unknown event type SourceMerged/);
    for (const name of ['articles', 'audit']) expect([name, failed[name].status]).toEqual([name, 'running']);
    const article = await t.http().get(`/articles/${after.body.id}`).set(reporter()).set('x-wait-for-position', after.body.position);
    expect(article.status).toBe(200);

    // A retry cannot make an unknown type known: it fails again, and says so.
    await expect(projectionsRetry(t.runtime, 'sources', { out: silent, timeoutMs: 10000 })).rejects.toThrow(/failed again at/);
    // A skip must name the failing position exactly.
    await expect(projectionsSkip(t.runtime, 'sources', '1', 'wrong place', operator, silent)).rejects.toThrow(/not failing at 1/);

    await projectionsSkip(t.runtime, 'sources', poison.position, 'Written by a migration script by mistake; ticket NEWS-42', operator, silent);
    const cleared = await until((s) => s.sources.status === 'running' && s.sources.error === null);
    expect(cleared.sources.status).toBe('running');
    const registered = await t.http().post('/sources').set(reporter()).send({ name: 'After skip', kind: 'wire' });
    expect((await t.http().get(`/sources/${registered.body.id}`).set(reporter()).set('x-wait-for-position', registered.body.position)).status).toBe(200);

    const audit = await t.http().get('/audit?type=ProjectionEventSkipped').set(reporter()).set('x-wait-for-position', registered.body.position);
    expect(audit.body.items).toEqual([
      expect.objectContaining({
        streamId: 'projection-sources',
        actor: expect.objectContaining({ id: 'cli:operator' }),
        reason: 'Written by a migration script by mistake; ticket NEWS-42',
        data: expect.objectContaining({ position: poison.position, eventType: 'SourceMerged', streamId: `source-${sourceId}` }),
      }),
    ]);

    // The skip holds for rebuilds too.
    await projectionsRebuild(t.runtime, ['sources'], { err: silent });
    expect((await statuses()).sources).toMatchObject({ status: 'running', error: null });
  });

  it('malformed data fails the projections that apply that event type, and retry resumes once the cause is gone', async () => {
    const articleId = randomUUID();
    const malformed = await t.runtime.eventStore.appendToStream(
      `article-${articleId}`,
      [{ id: randomUUID(), type: 'ArticleDrafted', data: { articleId }, metadata: { occurredAt: new Date().toISOString() } }],
      { expectedRevision: 'no_stream' },
    );
    const failed = await until((s) => s.articles.status === 'failed');
    expect(failed.articles.error).toMatchObject({ position: malformed.position, eventType: 'ArticleDrafted' });
    expect(failed.audit.status).toBe('running');
    expect(failed.sources.status).toBe('running');

    // The operator repairs the cause (here: the log itself, as a superuser past the append-only triggers), then retries.
    await tamper(t.db, [{ sql: `UPDATE events SET data = data || '{"headline":"Repaired","body":"Body.","byline":null,"desk":null}' WHERE position = $1`, params: [malformed.position] }]);
    const resumed = await projectionsRetry(t.runtime, 'articles', { out: silent });
    expect(resumed).toMatchObject({ status: 'running', error: null });
    const read = await t.http().get(`/articles/${articleId}`).set(reporter()).set('x-wait-for-position', malformed.position);
    expect(read.body).toMatchObject({ headline: 'Repaired' });
    // The others that had failed on it recover on their own back-off retries.
    const healed = await until((s) => Object.values(s).every((p) => p.status === 'running'), 30000);
    expect(Object.values(healed).map((p) => [p.name, p.status])).toEqual(Object.keys(healed).map((name) => [name, 'running']));
  });
});
