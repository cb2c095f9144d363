import { Pool } from 'pg';
import { PROJECTIONS, articlesProjection } from '../../projections';
import { Projection, Sql } from '../../projections/projection';
import { ensureInitialised } from '../../src/projection-runner/projection-status';
import { Newsroom, writeScenario } from '../support/newsroom';
import { ReadSideDb, checkpoint, cleanModel, dumpModel, eventually, readSideDb } from '../support/read-side';

/** The articles projection, except that the batch holding the `nth` event it sees (once) does `fault` after its rows. */
function faulty(nth: number, fault: (sql: Sql) => Promise<void>): Projection {
  let seen = 0;
  return {
    ...articlesProjection,
    apply: async (events, sql) => {
      await articlesProjection.apply(events, sql);
      const before = seen;
      seen += events.length;
      if (before < nth && seen >= nth) await fault(sql);
    },
  };
}

describe('projection runner: crashes', () => {
  let rs: ReadSideDb;
  let last: string;

  beforeAll(async () => {
    rs = await readSideDb();
    last = (await writeScenario(new Newsroom(rs.store), 4)).last.position;
  });
  afterAll(async () => {
    await rs.close();
  });

  async function caughtUp(name: string) {
    await eventually(
      () => checkpoint(rs.pool, name),
      (p) => p === last,
    );
  }

  it('a batch whose connection dies after some rows leaves nothing behind; after a restart the model equals a clean build', async () => {
    // A process that dies in the middle of a batch: its transaction's connection is killed after some rows.
    let crashed!: () => void;
    const crash = new Promise<void>((resolve) => (crashed = resolve));
    const dying = rs.runner({
      projections: [faulty(60, async (sql) => {
        crashed();
        await sql('SELECT pg_terminate_backend(pg_backend_pid())');
      })],
      batchSize: 40,
      retryBaseMs: 60_000,
      applicationName: 'dying-runner',
    });
    await dying.start();
    await crash;
    await dying.stop();

    // Whatever the dead process committed is whole: exactly the events up to its checkpoint.
    const atCrash = await checkpoint(rs.pool, 'articles');
    // The first batch (40 events) was committed; the second died at its 60th article event.
    expect(atCrash).not.toBeNull();
    expect(BigInt(atCrash!) < BigInt(last)).toBe(true);
    expect(await dumpModel(rs.pool, articlesProjection)).toEqual(await cleanModel(rs, articlesProjection, atCrash));

    const restarted = rs.runner({ projections: [articlesProjection] });
    await restarted.start();
    await caughtUp('articles');
    expect(await dumpModel(rs.pool, articlesProjection)).toEqual(await cleanModel(rs, articlesProjection));
    await restarted.stop();
  });

  it('a handler that throws after writing rows rolls its batch back; the retry applies every event exactly once', async () => {
    const db = new Pool({ connectionString: rs.db.url });
    try {
      const flaky = faulty(30, async () => {
        throw new Error('transient handler failure');
      });
      const runner = rs.runner({ projections: [flaky], batchSize: 50, retryBaseMs: 20 });
      await runner.requestRebuild('articles');
      await runner.start();
      await eventually(
        () => db.query(`SELECT rebuilt_at, build_schema, position::text FROM projection_status WHERE name = 'articles'`),
        (r) => r.rows[0].rebuilt_at !== null && r.rows[0].build_schema === null && r.rows[0].position === last,
      );
      expect(await dumpModel(rs.pool, articlesProjection)).toEqual(await cleanModel(rs, articlesProjection));
      await runner.stop();
    } finally {
      await db.end();
    }
  });

  it('a process killed between batches (its connections terminated) is replaced by a stand-by; the result equals a clean rebuild', async () => {
    const names = PROJECTIONS.map((p) => p.name);
    await ensureInitialised(rs.pool, PROJECTIONS);
    // Fresh live tables for every projection, so that both runners start from the first event.
    for (const name of names) await rs.pool.query(`UPDATE projection_status SET position = NULL WHERE name = $1`, [name]);
    for (const projection of PROJECTIONS) {
      const { rows } = await rs.pool.query<{ schema_name: string }>('SELECT schema_name FROM projection_status WHERE name = $1', [projection.name]);
      for (const table of Object.keys(await dumpModel(rs.pool, projection))) await rs.pool.query(`TRUNCATE "${rows[0].schema_name}"."${table}"`);
    }

    const victimPool = new Pool({ connectionString: rs.db.url, application_name: 'victim' });
    victimPool.on('error', () => undefined);
    let batches = 0;
    let killed!: () => void;
    const kill = new Promise<void>((resolve) => (killed = resolve));
    const victim = rs.runner({
      pool: victimPool,
      batchSize: 10,
      applicationName: 'victim',
      retryBaseMs: 60_000,
      onBatchCommitted: () => {
        if (++batches === 3) killed();
      },
    });
    const standby = rs.runner({ applicationName: 'standby' });
    await victim.start();
    await eventually(async () => victim.activeProjections().length, (n) => n === names.length);
    await standby.start();
    await kill;
    await rs.pool.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'victim' AND datname = current_database()`);
    // A killed process does not come back: keep the victim's supervisor from reconnecting (it would
    // otherwise race the stand-by for the released locks 100 ms later).
    const victimGone = victim.stop();
    await eventually(async () => standby.activeProjections().length, (n) => n === names.length);
    for (const name of names) await caughtUp(name);
    for (const projection of PROJECTIONS) expect(await dumpModel(rs.pool, projection)).toEqual(await cleanModel(rs, projection));

    // And the same as what a rebuild produces.
    const before = await Promise.all(PROJECTIONS.map((p) => dumpModel(rs.pool, p)));
    const asked = await Promise.all(names.map((name) => standby.requestRebuild(name)));
    await eventually(
      () => rs.pool.query<{ rebuilt_at: Date | null; build_schema: string | null }>('SELECT rebuilt_at, build_schema FROM projection_status WHERE name = ANY($1)', [names]),
      (r) => r.rows.every((row, i) => row.rebuilt_at !== null && row.rebuilt_at >= asked[i] && row.build_schema === null),
    );
    expect(await Promise.all(PROJECTIONS.map((p) => dumpModel(rs.pool, p)))).toEqual(before);
    await victimGone;
    await victimPool.end();
  });
});
