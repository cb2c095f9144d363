import { randomUUID } from 'node:crypto';
import { Role } from '../../src/newsroom/actor';
import { ArticleCommandHandler } from '../../src/newsroom/article/article-command.handler';
import { ExecuteArticleCommand } from '../../src/newsroom/article/article-command';
import { CommandExecutor } from '../../src/newsroom/command-executor';
import { DomainError } from '../../src/newsroom/domain-error';
import { toProblem } from '../../src/http/problem.filter';
import { requestHash } from '../../src/http/idempotency.interceptor';
import { startTestApp, TestApp } from '../support/app';
import { EVENT_STORES, startEventStore, StoreFixture } from '../support/event-stores';

const BODY = 'The council voted on Tuesday.\n\nThe mayor said “we will rebuild it” at the meeting.';

/** Requests that arrive at once: one Idempotency-Key, one If-Match, one stream. */
describe.each(EVENT_STORES)('concurrent writes, events in %s', (kind) => {
  let t: TestApp;
  let store: StoreFixture;
  const auth = (roles: Role[], id: string) => ({ authorization: `Bearer ${t.token(roles, id)}` });
  const reporter = () => auth(['reporter'], 'rita');
  const events = (id: string) => t.runtime.eventStore.readStream(`article-${id}`);
  const draft = async () => (await t.http().post('/articles').set(reporter()).send({ headline: 'Bridge closes', body: BODY })).body.id as string;

  beforeAll(async () => {
    store = await startEventStore(kind);
    t = await startTestApp({ eventStoreConnectionString: store.eventStoreConnectionString });
  });
  afterAll(async () => {
    await t?.close();
    await store?.stop();
  });

  describe('one Idempotency-Key', () => {
    it('PUT /headline and PUT /body at once with one key: never two 2xx, one event (30 trials)', async () => {
      for (let trial = 0; trial < 30; trial++) {
        const id = await draft();
        const key = `race-${randomUUID()}`;
        const [headline, body] = await Promise.all([
          t.http().put(`/articles/${id}/headline`).set(reporter()).set('idempotency-key', key).send({ headline: `Headline ${trial}` }),
          t.http().put(`/articles/${id}/body`).set(reporter()).set('idempotency-key', key).send({ body: `${BODY}\n\nTrial ${trial}.` }),
        ]);
        const answers = [headline, body];
        const ok = answers.filter((a) => a.status >= 200 && a.status < 300);
        expect({ trial, statuses: answers.map((a) => a.status).sort() }).toEqual({ trial, statuses: [200, 422] });
        expect(answers.find((a) => a.status === 422)!.body.type).toBe('idempotency-key-reused');
        const log = await events(id);
        expect(log).toHaveLength(2);
        expect(log[1].type).toBe(ok[0] === headline ? 'HeadlineChanged' : 'BodyRevised');
        expect(ok[0].body.revision).toBe(1);
      }
    });

    it('two identical requests in flight at once: one append, both answered alike, one of them as a replay (10 trials)', async () => {
      for (let trial = 0; trial < 10; trial++) {
        const key = `twin-${randomUUID()}`;
        const send = () => t.http().post('/articles').set(reporter()).set('idempotency-key', key).send({ headline: `Twin ${trial}`, body: BODY });
        const [a, b] = await Promise.all([send(), send()]);
        expect([a.status, b.status]).toEqual([201, 201]);
        expect(a.body).toEqual(b.body);
        expect([a.headers['idempotent-replayed'], b.headers['idempotent-replayed']].filter((h) => h === 'true')).toHaveLength(1);
        for (const answer of [a, b]) {
          expect(answer.headers.location).toBe(`/articles/${a.body.id}`);
          expect(answer.headers.etag).toBe('"0"');
        }
        expect(await events(a.body.id)).toHaveLength(1);
      }
    });

    it('a replayed 201 carries Location and ETag like the first answer', async () => {
      for (const [path, body] of [
        ['/articles', { headline: 'Located', body: BODY }],
        ['/sources', { name: 'Jane Doe', kind: 'person' }],
      ] as const) {
        const key = `located-${randomUUID()}`;
        const first = await t.http().post(path).set(reporter()).set('idempotency-key', key).send(body);
        const again = await t.http().post(path).set(reporter()).set('idempotency-key', key).send(body);
        expect(first.status).toBe(201);
        expect(first.headers.location).toBe(`${path}/${first.body.id}`);
        expect({ status: again.status, replayed: again.headers['idempotent-replayed'], location: again.headers.location, etag: again.headers.etag, body: again.body }).toEqual({
          status: 201,
          replayed: 'true',
          location: first.headers.location,
          etag: first.headers.etag,
          body: first.body,
        });
      }
    });

    it('a key held by a request still in flight: the same request waits, then answers 409 idempotency-key-in-flight with Retry-After and appends nothing; a lease that ran out is taken over', async () => {
      const id = await draft();
      const key = `held-${randomUUID()}`;
      const body = { topic: 'Held' };
      // Another process reserved the key for exactly this request and has not answered.
      await t.runtime.pool.query(
        `INSERT INTO idempotency_keys (actor_id, key, request_hash, owner, lease_until) VALUES ('rita', $1, $2, $3, now() + interval '1 minute')`,
        [key, requestHash('POST', `/articles/${id}/topics`, body), randomUUID()],
      );
      const held = await t.http().post(`/articles/${id}/topics`).set(reporter()).set('idempotency-key', key).send(body);
      expect([held.status, held.body.type, held.headers['retry-after']]).toEqual([409, 'idempotency-key-in-flight', expect.stringMatching(/^\d+$/)]);
      const other = await t.http().post(`/articles/${id}/topics`).set(reporter()).set('idempotency-key', key).send({ topic: 'Other' });
      expect([other.status, other.body.type]).toEqual([422, 'idempotency-key-reused']);
      expect(await events(id)).toHaveLength(1);

      // That process died: once its lease has run out, the key is taken over and the request runs.
      await t.runtime.pool.query(`UPDATE idempotency_keys SET lease_until = now() - interval '1 second' WHERE key = $1`, [key]);
      const taken = await t.http().post(`/articles/${id}/topics`).set(reporter()).set('idempotency-key', key).send(body);
      expect([taken.status, taken.headers['idempotent-replayed']]).toEqual([201, undefined]);
      const replay = await t.http().post(`/articles/${id}/topics`).set(reporter()).set('idempotency-key', key).send(body);
      expect([replay.status, replay.headers['idempotent-replayed'], replay.body]).toEqual([201, 'true', taken.body]);
      expect(await events(id)).toHaveLength(2);
    });

    it('a retry right after its holder died waits for the dead lease to run out, takes the key over and is served', async () => {
      const id = await draft();
      const key = `orphan-${randomUUID()}`;
      const body = { topic: 'Orphaned' };
      // A holder that died a moment ago: its lease (never renewed again) runs out within a second.
      await t.runtime.pool.query(
        `INSERT INTO idempotency_keys (actor_id, key, request_hash, owner, lease_until) VALUES ('rita', $1, $2, $3, now() + interval '1 second')`,
        [key, requestHash('POST', `/articles/${id}/topics`, body), randomUUID()],
      );
      const retry = await t.http().post(`/articles/${id}/topics`).set(reporter()).set('idempotency-key', key).send(body);
      expect([retry.status, retry.body.revision]).toEqual([201, 1]);
      expect(await events(id)).toHaveLength(2);
    });

    it('a refused request gives its key back: nothing stored, and the same request succeeds once its cause is fixed', async () => {
      const id = await draft();
      const key = `refused-${randomUUID()}`;
      const quote = { text: 'we will not rebuild it', speaker: 'The mayor' };
      const refused = await t.http().post(`/articles/${id}/quotes`).set(reporter()).set('idempotency-key', key).send(quote);
      expect([refused.status, refused.body.type]).toEqual([422, 'quote-not-in-body']);
      expect((await t.runtime.pool.query('SELECT 1 FROM idempotency_keys WHERE key = $1', [key])).rowCount).toBe(0);
      await t.http().put(`/articles/${id}/body`).set(reporter()).send({ body: 'The mayor said “we will not rebuild it”.' });
      const retried = await t.http().post(`/articles/${id}/quotes`).set(reporter()).set('idempotency-key', key).send(quote);
      expect(retried.status).toBe(201);
    });
  });

  it('many writers with the same If-Match: exactly one wins, the rest get 412 with the revision, nothing else is appended', async () => {
    const id = await draft();
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) => t.http().put(`/articles/${id}/headline`).set(reporter()).set('if-match', '"0"').send({ headline: `Writer ${i}` })),
    );
    const won = answers.filter((a) => a.status === 200);
    expect(won).toHaveLength(1);
    for (const lost of answers.filter((a) => a !== won[0])) {
      expect([lost.status, lost.body.type, lost.body.currentRevision]).toEqual([412, 'revision-mismatch', 1]);
    }
    const log = await events(id);
    expect(log.map((e) => e.type)).toEqual(['ArticleDrafted', 'HeadlineChanged']);
    expect(log[1].data.headline).toBe(`Writer ${answers.indexOf(won[0])}`);
  });

  it('a command that loses its last attempt answers 409 concurrency-conflict and appends nothing (one attempt, racing writers)', async () => {
    const handler = new ArticleCommandHandler(new CommandExecutor(t.runtime.eventStore, null, undefined, { maxAttempts: 1 }));
    const actor = { id: 'rita', name: 'Rita', roles: ['reporter' as const] };
    const context = () => {
      const commandId = randomUUID();
      return { actor, commandId, freshCommandId: true, correlationId: commandId, causationId: commandId, now: new Date().toISOString() };
    };
    let conflicts = 0;
    for (let round = 0; round < 20 && conflicts === 0; round++) {
      const id = await draft();
      const labels = Array.from({ length: 8 }, (_, i) => `Topic ${round}-${i}`);
      const outcomes = await Promise.all(
        labels.map((label) =>
          handler.execute(new ExecuteArticleCommand(id, { type: 'TagTopic', data: { label } }, context())).then(
            () => ({ label, ok: true as const }),
            (error: unknown) => ({ label, ok: false as const, error }),
          ),
        ),
      );
      for (const o of outcomes) if (!o.ok) expect(toProblem(o.error).problem).toEqual(expect.objectContaining({ type: 'concurrency-conflict', status: 409 }));
      const lost = outcomes.filter((o) => !o.ok);
      conflicts += lost.length;
      expect(lost.every((o) => !o.ok && o.error instanceof DomainError)).toBe(true);
      const log = await events(id);
      // Exactly the winners' events, in an unbroken run of revisions.
      expect(log.map((e) => e.revision)).toEqual(log.map((_, i) => i));
      expect(log.slice(1).map((e) => e.data.label).sort()).toEqual(outcomes.filter((o) => o.ok).map((o) => o.label).sort());
    }
    expect(conflicts).toBeGreaterThan(0);
  });
});
