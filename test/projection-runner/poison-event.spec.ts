import { randomUUID } from 'node:crypto';
import { PROJECTIONS, sourcesProjection } from '../../projections';
import { Projection } from '../../projections/projection';
import { ProjectionStatus } from '../../src/projection-runner/projection-runner';
import { Newsroom, writeScenario } from '../support/newsroom';
import { ReadSideDb, checkpoint, eventually, readSideDb } from '../support/read-side';

describe('projection runner: a poison event', () => {
  let rs: ReadSideDb;

  beforeAll(async () => {
    rs = await readSideDb();
  });
  afterAll(async () => {
    await rs.close();
  });

  it('marks only its projection failed, with the position and the error; the others keep running; it is retried, never skipped', async () => {
    const newsroom = new Newsroom(rs.store);
    await writeScenario(newsroom, 1, 'before');
    // In the same batch as the poison, just before it: committed on its own.
    const before = randomUUID();
    await newsroom.source(before, { type: 'RegisterSource', data: { sourceId: before, name: 'Before Poison', kind: 'wire', title: null, organization: null } });
    const poisoned = randomUUID();
    const poison = await rs.store.appendToStream(
      `source-${poisoned}`,
      [{ id: randomUUID(), type: 'SourceRegistered', data: { sourceId: poisoned }, metadata: { occurredAt: new Date().toISOString() } }],
      { expectedRevision: 'no_stream' },
    );
    const after = await writeScenario(newsroom, 1, 'after');

    const runner = rs.runner({ retryBaseMs: 50, retryMaxMs: 100 });
    await runner.start();
    const others = PROJECTIONS.filter((p) => p.name !== 'sources').map((p) => p.name);
    expect((await runner.waitForPosition(after.last.position, 10_000, others)).reached).toBe(true);

    const statuses = await eventually(
      () => runner.status(),
      (s) => s.find((x) => x.name === 'sources')?.status === 'failed',
    );
    const byName = Object.fromEntries(statuses.map((s) => [s.name, s])) as Record<string, ProjectionStatus>;
    expect(byName.sources.error).toMatchObject({ phase: 'live', position: poison.position, eventType: 'SourceRegistered', streamId: `source-${poisoned}` });
    expect(byName.sources.error!.message).toMatch(/SourceRegistered at \d+ has no string name/);
    for (const name of others) expect([name, byName[name].status, byName[name].error, byName[name].lag]).toEqual([name, 'running', null, 0]);

    // Stuck just before the poison, with everything before it applied; the lag counts the rest.
    const stuckAt = await checkpoint(rs.pool, 'sources');
    expect(BigInt(stuckAt!) < BigInt(poison.position)).toBe(true);
    expect(byName.sources.lag).toBeGreaterThan(1);
    const { rows } = await rs.pool.query(`SELECT schema_name FROM projection_status WHERE name = 'sources'`);
    expect((await rs.pool.query(`SELECT name FROM "${rows[0].schema_name}".sources WHERE id = $1`, [before])).rows).toEqual([{ name: 'Before Poison' }]);

    // Retried with back-off: the failure is recorded again, the checkpoint never passes it.
    const firstAt = byName.sources.error!.at;
    await eventually(
      () => runner.status(['sources']),
      ([s]) => s.error !== null && s.error.at > firstAt,
    );
    expect(await checkpoint(rs.pool, 'sources')).toBe(stuckAt);
    // A read-your-writes wait on the failed projection gives up; on the others it answers at once.
    expect((await runner.waitForPosition(after.last.position, 200, ['sources'])).reached).toBe(false);
    await runner.stop();

    // The fix (a handler that copes) ships: the same event is applied, nothing was skipped.
    const seen: string[] = [];
    const fixed: Projection = {
      ...sourcesProjection,
      apply: (events, sql) => {
        for (const event of events) if (event.type === 'SourceRegistered') seen.push(event.position);
        return sourcesProjection.apply(
          events.map((event) =>
            event.type === 'SourceRegistered' ? { ...event, data: { name: '(unnamed)', kind: 'person', title: null, organization: null, ...event.data } } : event,
          ),
          sql,
        );
      },
    };
    const patched = rs.runner({ projections: [fixed] });
    await patched.start();
    expect((await patched.waitForPosition(after.last.position, 10_000)).reached).toBe(true);
    expect(seen[0]).toBe(poison.position);
    const [recovered] = await patched.status();
    expect([recovered.status, recovered.error]).toEqual(['running', null]);
    await patched.stop();
  });

  it('a batch that fails as a whole but applies one event at a time stands, with a warning naming the projection', async () => {
    const newsroom = new Newsroom(rs.store);
    const written = await writeScenario(newsroom, 1, 'whole-batch');
    // A set-based apply with a fault only several events together trip over; one at a time it is right.
    const counted: string[] = [];
    const fragile: Projection = {
      name: 'fragile',
      version: 1,
      tables: ['CREATE TABLE {seen} (position numeric PRIMARY KEY)'],
      types: new Set(['ArticleDrafted', 'BodyRevised', 'QuoteAdded', 'SourceRegistered', 'TopicTagged']),
      catchAll: true,
      apply: async (events, sql) => {
        if (events.length > 1) throw new Error('a combination the set-based apply gets wrong');
        for (const event of events) counted.push(event.position);
        await sql('INSERT INTO {seen} (position) VALUES ($1)', [events[0].position]);
      },
    };
    const warnings: string[] = [];
    const runner = rs.runner({ projections: [fragile], logger: { log: () => undefined, error: () => undefined, warn: (m) => warnings.push(m) } });
    await runner.start();
    expect((await runner.waitForPosition(written.last.position, 10_000)).reached).toBe(true);
    const [status] = await runner.status();
    expect([status.status, status.error]).toEqual(['running', null]);
    const { rows } = await rs.pool.query(`SELECT count(*)::int AS n FROM "${(await rs.pool.query(`SELECT schema_name FROM projection_status WHERE name = 'fragile'`)).rows[0].schema_name}".seen`);
    expect(rows[0].n).toBe(new Set(counted).size);
    expect(rows[0].n).toBeGreaterThan(1);
    expect(warnings.some((w) => /^projection fragile: a batch of \d+ events failed as a whole but applied one event at a time$/.test(w))).toBe(true);
    await runner.stop();
  });
});
