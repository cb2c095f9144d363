import { uuidV5 } from '../../src/newsroom/ids';
import { startTestApp, TestApp } from '../support/app';

/**
 * Ids a command creates derive from its command id, and the command id from the actor and the
 * Idempotency-Key. With a public formula, another actor could create those ids first, and the owner's
 * request would answer 409 `article-exists` for ever. The command id is an HMAC keyed by a secret in
 * PostgreSQL, shared by every replica.
 */
describe('ids derived from an Idempotency-Key cannot be squatted', () => {
  let t: TestApp;
  const rita = () => ({ authorization: `Bearer ${t.token(['reporter'], 'rita')}` });
  const mallory = () => ({ authorization: `Bearer ${t.token(['reporter'], 'mallory')}` });
  /** What an attacker can compute from the actor and the key alone (the formula before the HMAC). */
  const publicFormula = (actor: string, key: string, purpose: string) => uuidV5(`${uuidV5(`idempotency-key\n${actor}\n${key}`)}\n${purpose}`);

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it("another actor who creates the id the owner's key would derive first does not block the owner's request", async () => {
    const key = 'monday-bridge-story';
    const squatted = publicFormula('rita', key, 'article');
    const squat = await t.http().post('/articles').set(mallory()).send({ id: squatted, headline: 'Squatted', body: 'Mine now.' });
    expect(squat.status).toBe(201);

    const own = await t.http().post('/articles').set(rita()).set('idempotency-key', key).send({ headline: 'Bridge closes', body: 'The bridge closes.' });
    expect(own.status).toBe(201);
    expect(own.body.id).not.toBe(squatted);
    expect(own.headers.location).toBe(`/articles/${own.body.id}`);
    const [drafted] = await t.runtime.eventStore.readStream(`article-${own.body.id}`);
    expect(drafted.metadata.actor).toMatchObject({ id: 'rita' });
  });

  it('nor does squatting the quote and claim ids', async () => {
    const article = (await t.http().post('/articles').set(rita()).send({ headline: 'H', body: 'The mayor said “yes” today.' })).body.id as string;
    const quoteKey = 'quote-1';
    const claimKey = 'claim-1';
    const quoteSquat = await t.http().post(`/articles/${article}/quotes`).set(mallory()).send({ quoteId: publicFormula('rita', quoteKey, 'quote'), text: 'yes', speaker: 'M' });
    expect(quoteSquat.status).toBe(201);
    const claimSquat = await t.http().post(`/articles/${article}/claims`).set(mallory()).send({ claimId: publicFormula('rita', claimKey, 'claim'), text: 'c' });
    expect(claimSquat.status).toBe(201);
    const quote = await t.http().post(`/articles/${article}/quotes`).set(rita()).set('idempotency-key', quoteKey).send({ text: 'yes', speaker: 'The mayor' });
    expect([quote.status, quote.body.quoteId === quoteSquat.body.quoteId]).toEqual([201, false]);
    const claim = await t.http().post(`/articles/${article}/claims`).set(rita()).set('idempotency-key', claimKey).send({ text: 'The mayor agreed' });
    expect([claim.status, claim.body.claimId === claimSquat.body.claimId]).toEqual([201, false]);
  });

  it('every replica on the database derives the same ids: a retry on another one after a lost answer finds its events', async () => {
    const key = 'replica-retry';
    const body = { headline: 'Replicas agree', body: 'One key, one article.' };
    const first = await t.http().post('/articles').set(rita()).set('idempotency-key', key).send(body);
    expect(first.status).toBe(201);
    // As if the answer was lost before it was stored: only the log knows the command ran.
    await t.runtime.pool.query('DELETE FROM idempotency_keys WHERE key = $1', [key]);
    const replica = await startTestApp({ db: t.db });
    try {
      const retry = await replica.http().post('/articles').set({ authorization: `Bearer ${replica.token(['reporter'], 'rita')}` }).set('idempotency-key', key).send(body);
      expect(retry.body).toEqual(first.body);
      expect(await replica.runtime.eventStore.readStream(`article-${first.body.id}`)).toHaveLength(1);
    } finally {
      await replica.stop();
    }
  });

  it('the key is generated per database, once, and is not the public formula', async () => {
    const { rows } = await t.runtime.pool.query<{ n: number; bytes: number }>(`SELECT count(*)::int AS n, min(length(key)) AS bytes FROM server_keys WHERE name = 'command-ids'`);
    expect(rows).toEqual([{ n: 1, bytes: 32 }]);
    const other = await startTestApp();
    try {
      expect(other.runtime.commandIdKey.equals(t.runtime.commandIdKey)).toBe(false);
    } finally {
      await other.close();
    }
  });
});
