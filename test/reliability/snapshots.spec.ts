import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { PostgresEventStore } from '../../src/event-store/postgres.event-store';
import { Actor } from '../../src/newsroom/actor';
import { ArticleCommand, ArticleState, SourceSnapshot, articleDecider, articleStream } from '../../src/newsroom/article/article.decider';
import { CommandContext } from '../../src/newsroom/command-context';
import { CommandExecutor, Decider, RevisionMismatchError, fold } from '../../src/newsroom/command-executor';
import { DomainError } from '../../src/newsroom/domain-error';
import { verifyChain } from '../../src/newsroom/hash-chain';
import { PostgresSnapshotStore, Snapshot } from '../../src/newsroom/snapshots';
import { snapshotVersionOf } from '../../src/newsroom/stream-states';
import { migrate } from '../../src/read-store/migrations';
import { createTestDatabase, TestDatabase } from '../support/database';
import { tamper } from '../support/tamper';

/*
 * Snapshots and the in-process cache of decider state are a cache, never the record: whatever they
 * hold, a command decides on exactly the fold of the events in the log. Everything here runs on a
 * real PostgreSQL event log and snapshot table; "cold" is a new executor (empty cache), as after a
 * restart or on another replica.
 */

const REPORTER: Actor = { id: 'r-1', name: 'Rita Reporter', roles: ['reporter'] };
const EDITOR: Actor = { id: 'e-1', name: 'Ed Editor', roles: ['editor'] };
const CHECKER: Actor = { id: 'c-1', name: 'Fay Checker', roles: ['fact_checker'] };
const JANE: SourceSnapshot = { id: 'src-jane', name: 'Jane Doe', title: 'Engineer', organization: null };
const CITY: SourceSnapshot = { id: 'src-city', name: 'City Hall', title: null, organization: 'City' };

const PARAGRAPHS = ['The bridge reopened on Monday.', '“It is safe,” said Jane Doe.', 'The council voted unanimously for repairs.', 'Traffic   resumed at noon.'];
const QUOTES = ['It is safe,', 'unanimously for repairs', 'Monday. “It is', 'resumed at noon'];

let db: TestDatabase;
let pool: Pool;
let store: PostgresEventStore;
let snapshots: PostgresSnapshotStore;
const warnings: string[] = [];
const logger = { warn: (message: string) => void warnings.push(message) };

beforeAll(async () => {
  db = await createTestDatabase();
  pool = new Pool({ connectionString: db.url, max: 10 });
  await migrate(pool, { eventLog: true });
  store = new PostgresEventStore(pool, db.url);
  snapshots = new PostgresSnapshotStore(pool);
});
afterAll(async () => {
  await store.close();
  await pool.end();
  await db.drop();
});

const executor = (snapshotEvery = 5, withSnapshots = true) => new CommandExecutor(store, withSnapshots ? snapshots : null, { snapshotEvery, logger });

function context(actor: Actor, key?: string): CommandContext {
  const commandId = key ?? randomUUID();
  return { actor, commandId, freshCommandId: key === undefined, correlationId: commandId, causationId: commandId, now: '2025-05-01T09:00:00.000Z' };
}

/** A command as the handlers build it; refusals (DomainError) are part of a random history and ignored. */
async function run(e: CommandExecutor, id: string, actor: Actor, make: () => ArticleCommand['data'] & object, type: ArticleCommand['type'], key?: string) {
  const command = { type, data: make(), metadata: { actor, now: '2025-05-01T09:00:00.000Z' } } as ArticleCommand;
  try {
    return await e.handle(articleDecider, articleStream(id), command, context(actor, key));
  } catch (error) {
    if (error instanceof DomainError) return null;
    throw error;
  }
}

const draft = (e: CommandExecutor, id: string, body = PARAGRAPHS.join('\n\n')) =>
  run(e, id, REPORTER, () => ({ articleId: id, headline: 'Bridge reopens', body }), 'DraftArticle');

const tag = (e: CommandExecutor, id: string, label: string, key?: string) => run(e, id, REPORTER, () => ({ label }), 'TagTopic', key);

/** The authority: the whole stream folded from its first event. */
async function logState(id: string, toRevision?: number): Promise<{ state: ArticleState; revision: number }> {
  const events = await store.readStream(articleStream(id), toRevision === undefined ? {} : { toRevision });
  return { state: fold(articleDecider, events), revision: events.length ? events[events.length - 1].revision : -1 };
}

async function expectLoadsLikeTheLog(e: CommandExecutor, id: string, toRevision?: number): Promise<void> {
  const loaded = await e.load(articleDecider, articleStream(id), toRevision);
  const log = await logState(id, toRevision);
  expect(loaded.revision).toBe(log.revision);
  expect(loaded.state).toStrictEqual(log.state);
  expect(JSON.stringify(loaded.state)).toBe(JSON.stringify(log.state));
}

async function storedSnapshot(id: string): Promise<Snapshot | null> {
  return snapshots.load(articleStream(id), 'article', snapshotVersionOf(articleDecider)!);
}

/** A snapshot as the executor would store it, at `revision` of the log, with `state` in place of the fold. */
async function forge(id: string, revision: number, change: Partial<Snapshot> = {}, state?: (s: ArticleState) => ArticleState): Promise<Snapshot> {
  const [event] = await store.readStream(articleStream(id), { fromRevision: revision, toRevision: revision });
  const folded = (await logState(id, revision)).state;
  const snapshot: Snapshot = {
    streamId: articleStream(id),
    decider: 'article',
    version: snapshotVersionOf(articleDecider)!,
    revision,
    lastEventId: event.id,
    position: event.position,
    lastHash: event.metadata.hash as string,
    state: state ? state(folded) : folded,
    ...change,
  };
  await pool.query('DELETE FROM decider_snapshots WHERE stream_id = $1', [articleStream(id)]);
  await snapshots.save(snapshot);
  return snapshot;
}

const withHeadline = (headline: string) => (s: ArticleState) => ({ ...s, headline }) as ArticleState;

// ─────────────────────────────────────────────────────── random command histories ──

type Step = { by: number; actor: Actor; type: ArticleCommand['type']; data: (id: string) => ArticleCommand['data'] };

const body = fc.shuffledSubarray(PARAGRAPHS, { minLength: 1 }).map((ps) => ps.join('\n\n'));
const quoteId = fc.constantFrom('q1', 'q2', 'q3').map((q) => `00000000-0000-4000-8000-00000000000${q[1]}`);
const claimId = fc.constantFrom('c1', 'c2').map((c) => `00000000-0000-4000-9000-00000000000${c[1]}`);
const step: fc.Arbitrary<Omit<Step, 'by'>> = fc.oneof(
  body.map((b) => ({ actor: REPORTER, type: 'ReviseBody' as const, data: () => ({ body: b, reason: 'update' }) })),
  fc.constantFrom('Bridge reopens', 'Bridge reopens after repairs').map((h) => ({ actor: EDITOR, type: 'ChangeHeadline' as const, data: () => ({ headline: h, reason: 'edit' }) })),
  fc.tuple(quoteId, fc.constantFrom(...QUOTES)).map(([q, text]) => ({ actor: REPORTER, type: 'AddQuote' as const, data: () => ({ quoteId: q, text, speaker: 'Jane Doe' }) })),
  fc.tuple(quoteId, fc.constantFrom(JANE, CITY)).map(([q, source]) => ({ actor: REPORTER, type: 'AttributeQuote' as const, data: () => ({ quoteId: q, source, attribution: null, method: 'interview' as const }) })),
  quoteId.map((q) => ({ actor: EDITOR, type: 'WithdrawQuote' as const, data: () => ({ quoteId: q, reason: 'cut' }) })),
  fc.constantFrom('Roads', 'Safety', 'City Hall').map((label) => ({ actor: REPORTER, type: 'TagTopic' as const, data: () => ({ label }) })),
  fc.constantFrom('roads', 'safety').map((slug) => ({ actor: REPORTER, type: 'UntagTopic' as const, data: () => ({ slug }) })),
  fc.tuple(claimId, fc.option(quoteId)).map(([c, q]) => ({ actor: CHECKER, type: 'RecordClaim' as const, data: () => ({ claimId: c, text: 'It is safe', quoteId: q }) })),
  fc.tuple(claimId, fc.constantFrom('verified' as const, 'unverifiable' as const)).map(([c, verdict]) => ({
    actor: CHECKER,
    type: 'RecordVerdict' as const,
    data: () => ({ claimId: c, verdict, evidence: [{ note: 'Inspection report' }], note: null }),
  })),
  fc.constant({ actor: REPORTER, type: 'SubmitArticle' as const, data: () => ({}) }),
  fc.constant({ actor: EDITOR, type: 'ApproveArticle' as const, data: () => ({}) }),
  fc.constant({ actor: EDITOR, type: 'PublishArticle' as const, data: () => ({}) }),
  fc.constant({ actor: EDITOR, type: 'IssueCorrection' as const, data: () => ({ text: 'A name was misspelled.' }) }),
);
/** Which executor runs a step: two long-lived ones (their caches go stale as the other writes) or a new one. */
const history = fc.array(fc.tuple(fc.nat(2), step).map(([by, s]) => ({ ...s, by })), { minLength: 1, maxLength: 30 });

describe('decider snapshots and the state cache', () => {
  it('loads what a fold of the whole log gives, warm, cold, from snapshots, and at past revisions, over random histories', async () => {
    await fc.assert(
      fc.asyncProperty(history, fc.nat(), async (steps, at) => {
        const id = randomUUID();
        const writers = [executor(3), executor(3)];
        await draft(writers[0], id);
        for (const s of steps) {
          const e = s.by < 2 ? writers[s.by] : executor(3);
          await run(e, id, s.actor, () => s.data(id) as ArticleCommand['data'] & object, s.type);
          await e.settled();
        }
        const head = (await logState(id)).revision;
        for (const e of [...writers, executor(3), executor(3, false)]) await expectLoadsLikeTheLog(e, id);
        // Time travel: a cached or stored state past the revision asked for must not be used.
        const past = at % (head + 1);
        for (const e of [...writers, executor(3)]) await expectLoadsLikeTheLog(e, id, past);
        // Every snapshot stored is the fold of exactly the log's events up to its revision.
        const stored = await storedSnapshot(id);
        if (head >= 3) expect(stored).not.toBeNull();
        if (stored) expect(JSON.stringify(stored.state)).toBe(JSON.stringify((await logState(id, stored.revision)).state));
      }),
      { numRuns: 12 },
    );
  });

  it('stores a snapshot each time the stream has grown by snapshotEvery events, off the command path', async () => {
    const id = randomUUID();
    const e = executor(5);
    await draft(e, id);
    for (let i = 1; i <= 11; i++) await tag(e, id, `Topic ${i}`);
    await e.settled();
    // Commands loaded the stream at revisions 0..10: snapshots at 4 (five events) and 9.
    const stored = await storedSnapshot(id);
    expect(stored?.revision).toBe(9);
    expect(stored?.state).toStrictEqual((await logState(id, 9)).state);
  });

  it('a cold command reads a snapshot that matches the log and only the events after it', async () => {
    const id = randomUUID();
    const e = executor(100);
    await draft(e, id);
    for (let i = 1; i <= 6; i++) await tag(e, id, `Topic ${i}`);
    // A state no fold would give: if it shows, the snapshot was used and the log only read after it.
    await forge(id, 4, {}, withHeadline('FROM THE SNAPSHOT'));
    const cold = executor(100);
    const loaded = await cold.load(articleDecider, articleStream(id));
    expect(loaded.revision).toBe(6);
    expect(loaded.state).toMatchObject({ headline: 'FROM THE SNAPSHOT', topics: expect.arrayContaining([{ slug: 'topic-6', label: 'Topic 6' }]) });
    expect(loaded.state.status === 'draft' && loaded.state.topics).toHaveLength(6);
  });

  it('ignores a snapshot of another version, and replaces it', async () => {
    const id = randomUUID();
    const e = executor(5);
    await draft(e, id);
    for (let i = 1; i <= 6; i++) await tag(e, id, `Topic ${i}`);
    await forge(id, 5, { version: 'article-0;TopicTagged@1' }, withHeadline('STALE VERSION'));
    const cold = executor(5);
    await expectLoadsLikeTheLog(cold, id);
    await cold.settled();
    const { rows } = await pool.query<{ version: string; revision: string }>('SELECT version, revision FROM decider_snapshots WHERE stream_id = $1', [articleStream(id)]);
    expect(rows).toEqual([{ version: snapshotVersionOf(articleDecider), revision: '6' }]);
    expect((await storedSnapshot(id))?.state).toStrictEqual((await logState(id)).state);
  });

  it('ignores, and replaces, a snapshot ahead of the log or of another incarnation of the stream', async () => {
    const id = randomUUID();
    const e = executor(5);
    await draft(e, id);
    for (let i = 1; i <= 6; i++) await tag(e, id, `Topic ${i}`);
    const head = (await logState(id)).revision;
    const real = await forge(id, head);

    // Ahead: a revision the stream has not reached (the log was restored from a backup, say).
    await forge(id, head, { revision: head + 10 }, withHeadline('AHEAD'));
    warnings.length = 0;
    let cold = executor(5);
    await expectLoadsLikeTheLog(cold, id);
    await cold.settled();
    expect(warnings).toEqual([`snapshot of ${articleStream(id)} at revision ${head + 10} does not match the event log; discarded`]);
    expect((await storedSnapshot(id))?.revision).toBe(head);

    // Another incarnation: the revision exists, but holds another event.
    await forge(id, 3, { lastEventId: randomUUID() }, withHeadline('OTHER STREAM'));
    cold = executor(5);
    await expectLoadsLikeTheLog(cold, id);
    // And one whose hash is not the log's.
    await forge(id, 3, { lastHash: real.lastHash }, withHeadline('OTHER HASH'));
    cold = executor(5);
    await expectLoadsLikeTheLog(cold, id);
  });

  it('ignores, and deletes, a snapshot whose stored bytes were altered', async () => {
    const id = randomUUID();
    const e = executor(100);
    await draft(e, id);
    for (let i = 1; i <= 4; i++) await tag(e, id, `Topic ${i}`);
    const good = await forge(id, 3);
    const { brotliCompressSync } = await import('node:zlib');
    const altered = JSON.stringify({ ...(good.state as object), headline: 'ALTERED' });
    await pool.query('UPDATE decider_snapshots SET state = $2 WHERE stream_id = $1', [articleStream(id), brotliCompressSync(altered)]);
    await expectLoadsLikeTheLog(executor(100), id);
    const { rows } = await pool.query('SELECT 1 FROM decider_snapshots WHERE stream_id = $1', [articleStream(id)]);
    expect(rows).toEqual([]);
  });

  it('a cached state goes stale the moment another process appends: the next command reads the tail, and If-Match sees the new revision', async () => {
    const id = randomUUID();
    const mine = executor(100);
    const theirs = executor(100);
    await draft(mine, id);
    await tag(mine, id, 'Roads');
    expect((await mine.load(articleDecider, articleStream(id))).revision).toBe(1);
    await tag(theirs, id, 'Safety');
    // Deciding on the cached state alone would call this a no-op; the log says it is a new tag.
    expect(await tag(mine, id, 'Safety')).toMatchObject({ revision: 2, changed: false });
    const stale = { ...context(REPORTER), ifMatch: 1 };
    const command = { type: 'TagTopic', data: { label: 'Energy' }, metadata: { actor: REPORTER, now: stale.now } } as ArticleCommand;
    await expect(mine.handle(articleDecider, articleStream(id), command, stale)).rejects.toEqual(new RevisionMismatchError(2));
  });

  it('writers racing with warm caches lose no event (a lost race re-reads the log)', async () => {
    const id = randomUUID();
    const writers = [executor(4), executor(4), executor(4)];
    await draft(writers[0], id);
    await Promise.all(writers.map((e) => e.load(articleDecider, articleStream(id))));
    // Three writers at once, each command after the last: lost races all the time, but never ten in a
    // row for one command (24 commands at once could, on a loaded machine, and be answered 409).
    await Promise.all(
      writers.map(async (e, w) => {
        for (let i = 0; i < 8; i++) await tag(e, id, `Topic ${w}-${i}`);
      }),
    );
    await Promise.all(writers.map((e) => e.settled()));
    const log = await logState(id);
    expect(log.revision).toBe(24);
    expect(log.state.status === 'draft' && log.state.topics).toHaveLength(24);
    for (const e of writers) await expectLoadsLikeTheLog(e, id);
  });
});

describe('a command on the cached state of a stream this process wrote last', () => {
  /** The real Postgres event log, counting the stream reads it is asked for. */
  class CountingStore extends PostgresEventStore {
    reads = 0;
    override readStream(...args: Parameters<PostgresEventStore['readStream']>) {
      this.reads++;
      return super.readStream(...args);
    }
  }
  let counting: CountingStore;
  beforeAll(() => {
    counting = new CountingStore(pool, db.url);
  });
  afterAll(() => counting.close());

  it('reads nothing from the log, and appends what a fold of the log would: contiguous revisions, an unbroken hash chain', async () => {
    const id = randomUUID();
    const e = new CommandExecutor(counting, null, { logger });
    await draft(e, id);
    counting.reads = 0;
    for (const label of ['Roads', 'Safety', 'Energy']) await tag(e, id, label);
    expect(counting.reads).toBe(0);
    const events = await store.readStream(articleStream(id));
    expect(events.map((event) => event.revision)).toEqual([0, 1, 2, 3]);
    expect(verifyChain(articleStream(id), events).valid).toBe(true);
    await expectLoadsLikeTheLog(e, id);
  });

  it('a refusal or a no-op on the cached state is decided again on the log before it is answered', async () => {
    const id = randomUUID();
    const mine = new CommandExecutor(counting, null, { logger });
    await draft(mine, id);
    await tag(executor(), id, 'Safety');
    counting.reads = 0;
    // The cache says "not tagged": a new tag from here would be the no-op the log says it is.
    expect(await tag(mine, id, 'Safety')).toMatchObject({ revision: 1, changed: false });
    expect(counting.reads).toBe(1);
  });

  it('a log restored and grown again to the cached revision is not taken for the one the cache was folded from', async () => {
    const id = randomUUID();
    const mine = executor(100, false);
    await draft(mine, id);
    await tag(mine, id, 'Roads');
    // A restore from a backup taken before the tag (as the superuser: the log's triggers refuse a DELETE),
    // then another process writes revision 1 again.
    await tamper(db, [
      { sql: 'DELETE FROM events WHERE stream_id = $1 AND revision >= 1', params: [articleStream(id)] },
      { sql: 'UPDATE event_streams SET revision = 0 WHERE stream_id = $1', params: [articleStream(id)] },
    ]);
    await tag(executor(100, false), id, 'Safety');
    expect(await tag(mine, id, 'Energy')).toMatchObject({ revision: 2, changed: true });
    const log = await logState(id);
    expect(log.state.status === 'draft' && log.state.topics.map((t) => t.slug)).toEqual(['safety', 'energy']);
    expect(verifyChain(articleStream(id), await store.readStream(articleStream(id))).valid).toBe(true);
    await expectLoadsLikeTheLog(mine, id);
  });
});

describe('a command retried after a crash between its append and its answer', () => {
  /** N events a command: more than the executor's look-ahead of 16, to follow a command past it. */
  const counter: Decider<number, { type: 'Counted'; data: { i: number } }, number> = {
    decide: (n) => Array.from({ length: n }, (_, i) => ({ type: 'Counted' as const, data: { i } })),
    evolve: (count) => count + 1,
    initialState: () => 0,
  };

  it('answers as the first time, from any process, however far the stream has moved on', async () => {
    const id = randomUUID();
    const e = executor(3);
    await draft(e, id);
    for (let i = 1; i <= 5; i++) await tag(e, id, `Before ${i}`);
    const first = await tag(e, id, 'Energy', 'client-key-1');
    for (let i = 1; i <= 7; i++) await tag(executor(3), id, `After ${i}`);
    for (const retry of [e, executor(3), executor(3, false)]) {
      expect(await tag(retry, id, 'Energy', 'client-key-1')).toEqual({ ...first, replayed: true });
    }
    expect((await logState(id)).revision).toBe(13);
  });

  it('answers with the last of several events, and before checking If-Match', async () => {
    const stream = `counter-${randomUUID()}`;
    const e = executor();
    const ctx = context(REPORTER, 'counter-key');
    await e.handle(counter, stream, 2, context(REPORTER));
    const first = await e.handle(counter, stream, 20, ctx);
    await e.handle(counter, stream, 3, context(REPORTER));
    const events = await store.readStream(stream);
    expect(first).toMatchObject({ revision: 21, position: events[21].position, changed: true });
    expect(await executor().handle(counter, stream, 20, { ...ctx, ifMatch: 0 })).toEqual({ ...first, replayed: true });
    expect(await store.readStream(stream)).toHaveLength(25);
  });
});
