import { PROJECTIONS, auditProjection, sourcesProjection } from '../../projections';
import { ProjectedEvent, Projection } from '../../projections/projection';
import { AllSubscription, EventStore, ReadAllOptions, SubscribeToAllOptions } from '../../src/event-store/event-store';
import { Newsroom, writeScenario } from '../support/newsroom';
import { ReadSideDb, checkpoint, cleanModel, dumpModel, eventually, readSideDb } from '../support/read-side';

/** The real store, counting how often the log is read. */
function counted(store: EventStore) {
  const calls = { subscribeToAll: 0, readAll: 0 };
  const wrapped = Object.create(store) as EventStore;
  wrapped.subscribeToAll = (options?: SubscribeToAllOptions): AllSubscription => (calls.subscribeToAll++, store.subscribeToAll(options));
  wrapped.readAll = (options: ReadAllOptions) => (calls.readAll++, store.readAll(options));
  return { store: wrapped, calls };
}

describe('projection runner: one reader of the log for every projection', () => {
  let rs: ReadSideDb;

  beforeAll(async () => {
    rs = await readSideDb();
  });
  afterAll(async () => {
    await rs.close();
  });

  it('live: one subscription feeds all five projections, each batch in one transaction for all of them', async () => {
    const { store, calls } = counted(rs.store);
    const batches: { projection: string; positions: string[] }[] = [];
    const runner = rs.runner({
      store,
      onBatchCommitted: (projection, phase, events: ProjectedEvent[]) => {
        if (phase === 'live') batches.push({ projection, positions: events.map((e) => e.position) });
      },
    });
    await runner.start();
    // Once every projection has applied an event, all of them follow the feed.
    const { last: first } = await writeScenario(new Newsroom(rs.store), 1, 'join');
    expect((await runner.waitForPosition(first.position, 10_000)).reached).toBe(true);
    // A pass of the feed reads pages of the log before it subscribes (see LiveEvents): once a write
    // after that has come through, the feed is on its subscription.
    const { last: joined } = await writeScenario(new Newsroom(rs.store), 1, 'joined');
    expect((await runner.waitForPosition(joined.position, 10_000)).reached).toBe(true);
    // One subscription, started again only when a worker joined after the first batch (it had not
    // finished reading its status row): never one per projection.
    expect(calls.subscribeToAll).toBeGreaterThanOrEqual(1);
    expect(calls.subscribeToAll).toBeLessThan(PROJECTIONS.length);
    const subscriptions = calls.subscribeToAll;
    // The batch that brought the last projection to `joined` may be reported just after the wait
    // saw its commit: only batches past `joined` count from here.
    batches.length = 0;
    const joinedAt = BigInt(joined.position);

    const { last } = await writeScenario(new Newsroom(rs.store), 3, 'live');
    expect((await runner.waitForPosition(last.position, 10_000)).reached).toBe(true);
    await runner.stop();
    expect(calls.subscribeToAll).toBe(subscriptions);
    // Every projection had live batches and saw every position written meanwhile exactly once, in
    // order, and the batches line up: the audit trail (every event) was applied in the same batches
    // as the others' events.
    const written = (await rs.store.readAll({ fromPosition: joined.position, maxCount: 10_000 })).map((e) => e.position);
    expect(written.at(-1)).toBe(last.position);
    const after = batches.filter((b) => BigInt(b.positions.at(-1)!) > joinedAt);
    const audit = after.filter((b) => b.projection === 'audit').map((b) => b.positions);
    for (const projection of PROJECTIONS) {
      const own = after.filter((b) => b.projection === projection.name);
      expect([projection.name, own.flatMap((b) => b.positions)]).toEqual([projection.name, written]);
      for (const batch of own) expect([projection.name, audit.some((a) => batch.positions.every((p) => a.includes(p)))]).toEqual([projection.name, true]);
    }
    // Each projection's model equals one built from scratch.
    for (const projection of PROJECTIONS) expect(await dumpModel(rs.pool, projection)).toEqual(await cleanModel(rs, projection));
  });

  it('stop ends the feeds: every subscription is closed and no read of the log is in flight when it resolves', async () => {
    const reads = { started: 0, finished: 0 };
    const subscriptions: { closed: boolean }[] = [];
    const watched = Object.create(rs.store) as EventStore;
    watched.readAll = (options: ReadAllOptions) => {
      reads.started++;
      return rs.store.readAll(options).finally(() => reads.finished++);
    };
    watched.subscribeToAll = (options?: SubscribeToAllOptions): AllSubscription => {
      const subscription = rs.store.subscribeToAll(options);
      const state = { closed: false };
      subscriptions.push(state);
      return {
        [Symbol.asyncIterator]: () => subscription[Symbol.asyncIterator](),
        close: async () => {
          state.closed = true;
          await subscription.close();
        },
      };
    };
    const runner = rs.runner({ store: watched });
    await runner.start();
    // Events written once it runs reach it through the subscription, which then waits, idle.
    await eventually(
      async () => subscriptions.length,
      (n) => n > 0,
    );
    const { last } = await writeScenario(new Newsroom(rs.store), 1, 'stop');
    expect((await runner.waitForPosition(last.position, 10_000)).reached).toBe(true);
    await runner.stop();
    expect(subscriptions.length).toBeGreaterThan(0);
    expect(subscriptions.every((s) => s.closed)).toBe(true);
    expect(reads.finished).toBe(reads.started);
  });

  it('a projection that fails leaves the batch to the others, and rejoining behind the feed reads the log again for it alone', async () => {
    const start = await checkpoint(rs.pool, 'sources');
    let broken = true;
    let failedAt: string | null = null;
    // The sources projection fails on every SourceRegistered while `broken`.
    const flaky: Projection = {
      ...sourcesProjection,
      apply: async (events, sql) => {
        const bad = events.find((e) => e.type === 'SourceRegistered');
        if (broken && bad) {
          failedAt ??= bad.position;
          throw new Error('not today');
        }
        await sourcesProjection.apply(events, sql);
      },
    };
    const runner = rs.runner({ projections: PROJECTIONS.map((p) => (p.name === 'sources' ? flaky : p)) });
    await runner.start();
    const { last } = await writeScenario(new Newsroom(rs.store), 2, 'after');
    expect((await runner.waitForPosition(last.position, 10_000, ['articles', 'audit'])).reached).toBe(true);
    const [failing] = await eventually(
      () => runner.status(['sources']),
      ([s]) => s.error !== null,
    );
    expect(failing.error!.position).toBe(failedAt);
    // It kept what came before the event at fault, and nothing from it on.
    const stuck = await checkpoint(rs.pool, 'sources');
    expect(BigInt(stuck!)).toBeGreaterThanOrEqual(BigInt(start!));
    expect(BigInt(stuck!)).toBeLessThan(BigInt(failedAt!));

    broken = false;
    expect((await runner.waitForPosition(last.position, 10_000, ['sources'])).reached).toBe(true);
    await runner.stop();
    for (const projection of PROJECTIONS) expect(await dumpModel(rs.pool, projection)).toEqual(await cleanModel(rs, projection));
  });

  it('rebuilds of several projections share one pass over the log', async () => {
    const { store, calls } = counted(rs.store);
    const runner = rs.runner({ store, rebuildBatchSize: 10 });
    await runner.start();
    const head = (await rs.store.headPosition())!;
    expect((await runner.waitForPosition(head, 10_000)).reached).toBe(true);
    const before = calls.readAll;
    for (const projection of PROJECTIONS) await runner.requestRebuild(projection.name);
    await eventually(
      () => runner.status(),
      (statuses) => statuses.every((s) => s.status === 'running' && s.rebuild === null),
      30_000,
    );
    await runner.stop();
    const events = Number((await rs.pool.query<{ n: string }>('SELECT count(*) AS n FROM events')).rows[0].n);
    // One pass of pages of 10 (plus the swaps' final catch-ups, and a restart or two when a
    // projection joins late, each wasting the page being read ahead), fewer than a pass each would take.
    const pages = Math.ceil(events / 10);
    expect(pages).toBeGreaterThan(10);
    expect(calls.readAll - before).toBeLessThan(pages * 2 + PROJECTIONS.length * 3);
    expect(calls.readAll - before).toBeLessThan(PROJECTIONS.length * pages);
    for (const projection of PROJECTIONS) expect(await dumpModel(rs.pool, projection)).toEqual(await cleanModel(rs, projection));
  });

  it('stop during a rebuild waits for the builds\' batches in flight: none is in flight when it resolves, none starts after', async () => {
    const { last: written } = await writeScenario(new Newsroom(rs.store), 4, 'stopping');
    await eventually(() => rs.store.headPosition(), (head) => head === written.position, 30_000);
    let active = 0;
    let calls = 0;
    // A slow audit build, stopped in the middle of one of its batches.
    const slow: Projection = {
      ...auditProjection,
      apply: async (events, sql, context) => {
        if (!context?.bulk) return auditProjection.apply(events, sql, context);
        active++;
        calls++;
        try {
          await new Promise((resolve) => setTimeout(resolve, 300));
          await auditProjection.apply(events, sql, context);
        } finally {
          active--;
        }
      },
    };
    let rebuildBatches = 0;
    const runner = rs.runner({
      projections: PROJECTIONS.map((p) => (p.name === 'audit' ? slow : p)),
      rebuildBatchSize: 5,
      onBatchCommitted: (_projection, phase) => void (phase === 'rebuild' && rebuildBatches++),
    });
    await runner.start();
    for (const projection of PROJECTIONS) await runner.requestRebuild(projection.name);
    await eventually(
      async () => (calls >= 2 && active === 1 ? rebuildBatches : 0),
      (n) => n >= 6,
      10_000,
    );
    await runner.stop();
    expect(active).toBe(0);
    const after = calls;
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(calls).toBe(after);
    // The builds resume from their checkpoints: a runner started again finishes them, and every model equals a clean one.
    const again = rs.runner();
    await again.start();
    await eventually(
      () => again.status(),
      (statuses) => statuses.every((st) => st.status === 'running' && st.rebuild === null),
      30_000,
    );
    await again.stop();
    for (const projection of PROJECTIONS) expect(await dumpModel(rs.pool, projection)).toEqual(await cleanModel(rs, projection));
  });
});
