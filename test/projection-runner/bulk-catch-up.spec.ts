import { PROJECTIONS } from '../../projections';
import { ProjectedEvent } from '../../projections/projection';
import { Phase } from '../../src/projection-runner/apply-batch';
import { Newsroom, writeScenario } from '../support/newsroom';
import { ReadSideDb, cleanModel, dumpModel, readSideDb } from '../support/read-side';

/** Which phases fed each projection, in order, and the positions each phase applied. */
function recorder() {
  const batches: { projection: string; phase: Phase; positions: string[] }[] = [];
  return {
    batches,
    onBatchCommitted: (projection: string, phase: Phase, events: ProjectedEvent[]) => batches.push({ projection, phase, positions: events.map((e) => e.position) }),
  };
}

describe('projection runner: a fresh server far behind catches up as a bulk load', () => {
  let rs: ReadSideDb;

  beforeEach(async () => {
    rs = await readSideDb();
  });
  afterEach(async () => {
    await rs.close();
  });

  it('live tables that hold nothing, at least the threshold behind, are built as a rebuild and swapped in; live batches go on from there', async () => {
    const { last } = await writeScenario(new Newsroom(rs.store), 3, 'before');
    const logged = (await rs.store.readAll({ maxCount: 100_000 })).length;
    const { batches, onBatchCommitted } = recorder();
    const runner = rs.runner({ bulkCatchUpThreshold: logged, rebuildBatchSize: 25, onBatchCommitted });
    await runner.start();
    expect((await runner.waitForPosition(last.position, 20_000)).reached).toBe(true);
    const { rows } = await rs.pool.query<{ name: string; rebuilt: boolean; building: boolean }>(
      'SELECT name, rebuilt_at IS NOT NULL AS rebuilt, build_schema IS NOT NULL AS building FROM projection_status ORDER BY name',
    );
    expect(rows.map((r) => [r.name, r.rebuilt, r.building])).toEqual(PROJECTIONS.map((p) => [p.name, true, false]).sort());
    // Nothing went into the empty live tables meanwhile: every event came through the build.
    for (const projection of PROJECTIONS) {
      const own = batches.filter((b) => b.projection === projection.name);
      expect([projection.name, own.some((b) => b.phase === 'rebuild'), own.some((b) => b.phase === 'live')]).toEqual([projection.name, true, false]);
    }
    const { last: after } = await writeScenario(new Newsroom(rs.store), 1, 'after');
    expect((await runner.waitForPosition(after.position, 20_000)).reached).toBe(true);
    await runner.stop();
    expect(batches.some((b) => b.phase === 'live' && b.positions.includes(after.position))).toBe(true);
    for (const projection of PROJECTIONS) expect(await dumpModel(rs.pool, projection)).toEqual(await cleanModel(rs, projection));
  });

  it('below the threshold the live tables catch up in live batches, without a rebuild', async () => {
    const { last } = await writeScenario(new Newsroom(rs.store), 2, 'small');
    const logged = (await rs.store.readAll({ maxCount: 100_000 })).length;
    const { batches, onBatchCommitted } = recorder();
    const runner = rs.runner({ bulkCatchUpThreshold: logged + 1, onBatchCommitted });
    await runner.start();
    expect((await runner.waitForPosition(last.position, 20_000)).reached).toBe(true);
    await runner.stop();
    expect(batches.length).toBeGreaterThan(0);
    expect(batches.filter((b) => b.phase === 'rebuild')).toEqual([]);
    const { rows } = await rs.pool.query<{ n: string }>('SELECT count(*) AS n FROM projection_status WHERE rebuilt_at IS NOT NULL');
    expect(rows[0].n).toBe('0');
    for (const projection of PROJECTIONS) expect(await dumpModel(rs.pool, projection)).toEqual(await cleanModel(rs, projection));
  });
});
