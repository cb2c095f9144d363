import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { verifyAllStreams } from '../../src/audit/audit-verification';
import { startTestApp, TestApp, TEST_SECRET } from '../support/app';
import { tamperWithLog } from '../support/database';

const run = promisify(execFile);

describe('tamper-evident audit trail', () => {
  let t: TestApp;
  let articleId: string;
  const reporter = () => ({ authorization: `Bearer ${t.token(['reporter'], 'r-1')}` });

  beforeAll(async () => {
    t = await startTestApp();
    const draft = await t.http().post('/articles').set(reporter()).send({ headline: 'Ledger', body: 'The mayor said “never again”.' });
    articleId = draft.body.id;
    await t.http().post(`/articles/${articleId}/topics`).set(reporter()).send({ topic: 'City Hall' });
    await t.http().post(`/articles/${articleId}/quotes`).set(reporter()).send({ text: 'never again', speaker: 'The mayor' });
    await t.http().put(`/articles/${articleId}/headline`).set(reporter()).send({ headline: 'Ledger, revised' });
  });
  afterAll(async () => {
    await t.close();
  });

  it('chains every event of a stream to the one before it', async () => {
    const events = await t.runtime.eventStore.readStream(`article-${articleId}`);
    expect(events[0].metadata.previousHash).toBe('0'.repeat(64));
    for (let i = 1; i < events.length; i++) expect(events[i].metadata.previousHash).toBe(events[i - 1].metadata.hash);
    const verify = await t.http().get(`/articles/${articleId}/audit/verify`).set(reporter());
    expect(verify.status).toBe(200);
    expect(verify.body).toMatchObject({ valid: true, events: 4, firstBreak: null, headHash: events[3].metadata.hash });
  });

  it('names the first event whose stored data was altered in PostgreSQL, over HTTP and from the command line', async () => {
    await tamperWithLog(
      t.db,
      `UPDATE events SET data = jsonb_set(data, '{text}', '"always again"') WHERE stream_id = $1 AND revision = 2`,
      [`article-${articleId}`],
    );
    const verify = await t.http().get(`/articles/${articleId}/audit/verify`).set(reporter());
    expect(verify.body).toMatchObject({ valid: false, firstBreak: { revision: 2, type: 'QuoteAdded', problem: 'hash-mismatch' } });

    const all = await verifyAllStreams(t.runtime.eventStore, 2);
    expect(all.broken.map((b) => [b.streamId, b.firstBreak?.revision])).toEqual([[`article-${articleId}`, 2]]);

    const cli = await run(process.execPath, ['-r', 'ts-node/register/transpile-only', join(__dirname, '../../src/cli/main.ts'), 'audit', 'verify'], {
      env: { ...process.env, DATABASE_URL: t.db.appUrl, DATABASE_OWNER_URL: t.db.url, AUTH_JWT_SECRET: TEST_SECRET },
    }).then(
      () => ({ code: 0, stdout: '' }),
      (error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }),
    );
    expect(cli.code).toBe(1);
    expect(cli.stdout).toContain(`article-${articleId}: first mismatch at revision 2`);
  });

  it('notices a deleted event', async () => {
    const draft = await t.http().post('/articles').set(reporter()).send({ headline: 'Second', body: 'Body.' });
    const id = draft.body.id;
    await t.http().post(`/articles/${id}/topics`).set(reporter()).send({ topic: 'A' });
    await t.http().post(`/articles/${id}/topics`).set(reporter()).send({ topic: 'B' });
    await tamperWithLog(t.db, 'DELETE FROM events WHERE stream_id = $1 AND revision = 1', [`article-${id}`]);
    const verify = await t.http().get(`/articles/${id}/audit/verify`).set(reporter());
    expect(verify.body).toMatchObject({ valid: false, firstBreak: { revision: 2, problem: 'revision-gap' } });
  });
});
