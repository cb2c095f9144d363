import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AuditReadModelRecord, verifyAllStreams, verifyStream } from '../../src/audit/audit-verification';
import { RecordedEvent } from '../../src/event-store/event-store';
import { eventHash } from '../../src/newsroom/hash-chain';
import { ReadModels } from '../../src/read-store/read-models';
import { startTestApp, TestApp, TEST_SECRET } from '../support/app';
import { tamper } from '../support/tamper';

const run = promisify(execFile);

/**
 * Every way of editing the stored log that the hash chain and the audit record must name. Each spec
 * writes its own article and tampers with it alone, so they hold in any order and each on its own.
 */
describe('tamper-evident audit trail', () => {
  let t: TestApp;
  const reporter = () => ({ authorization: `Bearer ${t.token(['reporter'], 'r-1')}` });

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  /** Revisions 0..4: drafted, tagged, quoted, headline changed (with a reason), tagged again; projected. */
  async function article(): Promise<{ id: string; stream: string; events: RecordedEvent[] }> {
    const id = (await t.http().post('/articles').set(reporter()).send({ headline: 'Ledger', body: 'The mayor said “never again”.' })).body.id as string;
    await t.http().post(`/articles/${id}/topics`).set(reporter()).send({ topic: 'City Hall' });
    await t.http().post(`/articles/${id}/quotes`).set(reporter()).send({ text: 'never again', speaker: 'The mayor' });
    await t.http().put(`/articles/${id}/headline`).set(reporter()).send({ headline: 'Ledger, revised', reason: 'sharper' });
    const last = await t.http().post(`/articles/${id}/topics`).set(reporter()).send({ topic: 'Budget' });
    // The audit read model has seen every event before anyone tampers. ($all readers wait for the oldest
    // transaction on the whole PostgreSQL server, which other test runs may hold open for a while.)
    for (let tries = 0; ; tries++) {
      const history = await t.http().get(`/articles/${id}/history`).set(reporter()).set('x-wait-for-position', last.body.position);
      if (history.status === 200) break;
      expect([tries < 12, history.status]).toEqual([true, 503]);
    }
    const stream = `article-${id}`;
    return { id, stream, events: await t.runtime.eventStore.readStream(stream) };
  }

  const verify = async (id: string) => {
    const res = await t.http().get(`/articles/${id}/audit/verify`).set(reporter());
    expect(res.status).toBe(200);
    return res.body;
  };

  const cli = (...args: string[]) =>
    run(process.execPath, ['-r', 'ts-node/register/transpile-only', join(__dirname, '../../src/cli/main.ts'), 'audit', 'verify', ...args], {
      env: { ...process.env, DATABASE_URL: t.db.url, AUTH_JWT_SECRET: TEST_SECRET },
    }).then(
      (out) => ({ code: 0, stdout: out.stdout }),
      (error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }),
    );

  it('chains every event of a stream to the one before it, sealing its id (hash version 2)', async () => {
    const { id, events } = await article();
    expect(events[0].metadata.previousHash).toBe('0'.repeat(64));
    for (let i = 1; i < events.length; i++) expect(events[i].metadata.previousHash).toBe(events[i - 1].metadata.hash);
    for (const event of events) expect(event.metadata.hashVersion).toBe(2);
    expect(await verify(id)).toMatchObject({ valid: true, events: 5, firstBreak: null, headHash: events[4].metadata.hash });
  });

  it('names the first event whose stored data was altered, over HTTP, across all streams and from the command line', async () => {
    const { id, stream } = await article();
    await tamper(t.db, [{ sql: `UPDATE events SET data = jsonb_set(data, '{text}', '"always again"') WHERE stream_id = $1 AND revision = 2`, params: [stream] }]);
    expect(await verify(id)).toMatchObject({ valid: false, headHash: null, firstBreak: { revision: 2, type: 'QuoteAdded', problem: 'hash-mismatch' } });

    const all = await verifyAllStreams(t.runtime.eventStore, new AuditReadModelRecord(new ReadModels(t.runtime.pool)), 2);
    expect(all.broken.filter((b) => b.streamId === stream).map((b) => b.firstBreak?.revision)).toEqual([2]);

    const out = await cli();
    expect(out.code).toBe(1);
    expect(out.stdout).toContain(`${stream}: first mismatch at revision 2`);
  });

  it.each([
    ['the actor', `jsonb_set(metadata, '{actor,id}', '"someone-else"')`, 1],
    ['the time it occurred', `jsonb_set(metadata, '{occurredAt}', '"2001-01-01T00:00:00.000Z"')`, 2],
    ['the reason', `jsonb_set(metadata, '{reason}', '"no reason"')`, 3],
    ['the command id', `jsonb_set(metadata, '{commandId}', to_jsonb(gen_random_uuid()::text))`, 4],
  ])('names an event whose metadata was altered: %s', async (_what, expression, revision) => {
    const { id, stream } = await article();
    await tamper(t.db, [{ sql: `UPDATE events SET metadata = ${expression} WHERE stream_id = $1 AND revision = $2`, params: [stream, revision] }]);
    expect((await verify(id)).firstBreak).toMatchObject({ revision, problem: 'hash-mismatch' });
  });

  it('names an event whose type was altered', async () => {
    const { id, stream } = await article();
    await tamper(t.db, [{ sql: `UPDATE events SET type = 'TopicUntagged' WHERE stream_id = $1 AND revision = 4`, params: [stream] }]);
    expect((await verify(id)).firstBreak).toMatchObject({ revision: 4, type: 'TopicUntagged', problem: 'hash-mismatch' });
  });

  it('names an event whose id was changed', async () => {
    const { id, stream, events } = await article();
    const newId = randomUUID();
    await tamper(t.db, [{ sql: 'UPDATE events SET id = $3 WHERE stream_id = $1 AND revision = $2', params: [stream, 3, newId] }]);
    expect((await verify(id)).firstBreak).toMatchObject({ revision: 3, eventId: newId, problem: 'hash-mismatch' });
    expect(events[3].id).not.toBe(newId);
  });

  it('names two events that swapped places', async () => {
    const { id, stream, events } = await article();
    await tamper(t.db, [
      { sql: 'UPDATE events SET revision = 100 WHERE stream_id = $1 AND revision = 1', params: [stream] },
      { sql: 'UPDATE events SET revision = 1 WHERE stream_id = $1 AND revision = 2', params: [stream] },
      { sql: 'UPDATE events SET revision = 2 WHERE stream_id = $1 AND revision = 100', params: [stream] },
    ]);
    // The event now at revision 1 was sealed after the one now at 2.
    expect((await verify(id)).firstBreak).toMatchObject({ revision: 1, eventId: events[2].id, problem: 'previous-hash-mismatch' });
  });

  it('names renumbered revisions: an event taken out and the rest moved up to close the gap, or moved on to leave one', async () => {
    const closed = await article();
    await tamper(t.db, [
      { sql: 'DELETE FROM events WHERE stream_id = $1 AND revision = 1', params: [closed.stream] },
      { sql: 'UPDATE events SET revision = revision - 1 WHERE stream_id = $1 AND revision > 1', params: [closed.stream] },
      { sql: 'UPDATE event_streams SET revision = revision - 1 WHERE stream_id = $1', params: [closed.stream] },
    ]);
    expect((await verify(closed.id)).firstBreak).toMatchObject({ revision: 1, eventId: closed.events[2].id, problem: 'previous-hash-mismatch' });

    const opened = await article();
    await tamper(t.db, [{ sql: 'UPDATE events SET revision = revision + 10 WHERE stream_id = $1 AND revision >= 3', params: [opened.stream] }]);
    expect((await verify(opened.id)).firstBreak).toMatchObject({ revision: 3, problem: 'missing-event' });
  });

  it('names the next event when one was altered and its own hash recomputed: previous-hash-mismatch', async () => {
    const { id, stream, events } = await article();
    const forged = { ...events[2], data: { ...events[2].data, text: 'always again' } };
    const metadata = { ...forged.metadata };
    metadata.hash = eventHash({ id: forged.id, streamId: stream, revision: 2, type: forged.type, data: forged.data, metadata });
    await tamper(t.db, [{ sql: 'UPDATE events SET data = $3, metadata = $4 WHERE stream_id = $1 AND revision = $2', params: [stream, 2, forged.data, metadata] }]);
    expect((await verify(id)).firstBreak).toMatchObject({ revision: 3, type: 'HeadlineChanged', problem: 'previous-hash-mismatch' });
  });

  it('names a deleted event in the middle: missing-event with its id from the audit record; the chain alone sees a revision-gap after it', async () => {
    const { id, stream, events } = await article();
    await tamper(t.db, [{ sql: 'DELETE FROM events WHERE stream_id = $1 AND revision = 1', params: [stream] }]);
    expect((await verify(id)).firstBreak).toMatchObject({ revision: 1, eventId: events[1].id, type: 'TopicTagged', problem: 'missing-event' });
    expect((await verifyStream(t.runtime.eventStore, stream)).firstBreak).toMatchObject({ revision: 2, eventId: events[2].id, problem: 'revision-gap' });
  });

  it('names a deleted last event with event_streams rolled back (a shorter chain that is valid in itself): missing-event, over HTTP and from the command line', async () => {
    const { id, stream, events } = await article();
    await tamper(t.db, [
      { sql: 'DELETE FROM events WHERE stream_id = $1 AND revision = 4', params: [stream] },
      { sql: 'UPDATE event_streams SET revision = 3 WHERE stream_id = $1', params: [stream] },
    ]);
    expect(await verify(id)).toMatchObject({
      valid: false,
      events: 4,
      headHash: null,
      firstBreak: { revision: 4, eventId: events[4].id, type: 'TopicTagged', position: events[4].position, problem: 'missing-event' },
    });
    const one = await cli('--stream', stream);
    expect(one.code).toBe(1);
    expect(one.stdout).toContain(`${stream}: first mismatch at revision 4 (position ${events[4].position}, TopicTagged, event ${events[4].id}): missing-event`);
  });

  it('names a stream deleted whole', async () => {
    const { id, stream, events } = await article();
    await tamper(t.db, [
      { sql: 'DELETE FROM events WHERE stream_id = $1', params: [stream] },
      { sql: 'DELETE FROM event_streams WHERE stream_id = $1', params: [stream] },
    ]);
    expect(await verify(id)).toMatchObject({ valid: false, events: 0, firstBreak: { revision: 0, eventId: events[0].id, problem: 'missing-event' } });
    const all = await verifyAllStreams(t.runtime.eventStore, new AuditReadModelRecord(new ReadModels(t.runtime.pool)));
    expect(all.broken.find((b) => b.streamId === stream)?.firstBreak).toMatchObject({ revision: 4, problem: 'missing-event' });
  });

  it('does not seal the store\'s own `created` time, and shows none: every time the API shows is the sealed occurredAt', async () => {
    const { id, stream, events } = await article();
    const before = (await t.http().get(`/articles/${id}/revisions/4`).set(reporter())).body;
    await tamper(t.db, [{ sql: `UPDATE events SET created = created - interval '1 year' WHERE stream_id = $1`, params: [stream] }]);
    expect((await verify(id)).valid).toBe(true);
    const after = (await t.http().get(`/articles/${id}/revisions/4`).set(reporter())).body;
    expect(after).toEqual(before);
    expect([after.createdAt, after.updatedAt]).toEqual([events[0].metadata.occurredAt, events[4].metadata.occurredAt]);
  });

  it('still verifies events sealed with hash version 1 (without their id), as they were sealed', async () => {
    const { id, stream, events } = await article();
    const metadata: Record<string, unknown> = { actor: { id: 'r-0', name: 'Archive', roles: ['reporter'] }, occurredAt: '2019-05-01T09:00:00.000Z', schemaVersion: 2, previousHash: events[4].metadata.hash };
    const data = { slug: 'archive', label: 'Archive' };
    metadata.hash = eventHash({ streamId: stream, revision: 5, type: 'TopicTagged', data, metadata });
    await t.runtime.eventStore.appendToStream(stream, [{ id: randomUUID(), type: 'TopicTagged', data, metadata }], { expectedRevision: 4 });
    expect(await verify(id)).toMatchObject({ valid: true, events: 6 });
  });
});
