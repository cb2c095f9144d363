import { PROJECTIONS } from '../../projections';
import { ProjectedEvent } from '../../projections/projection';
import { LOCK_NAMESPACE } from '../../src/projection-runner/projection-status';
import { Newsroom, writeScenario } from '../support/newsroom';
import { ReadSideDb, dumpModel, cleanModel, eventually, readSideDb } from '../support/read-side';

describe('projection runner: one active runner per projection', () => {
  let rs: ReadSideDb;

  beforeAll(async () => {
    rs = await readSideDb();
  });
  afterAll(async () => {
    await rs.close();
  });

  it('two runners on one database never both apply; the stand-by takes over when the first stops, and again when it dies', async () => {
    const applied: { runner: string; projection: string; positions: string[] }[] = [];
    const record = (runner: string) => (projection: string, phase: string, events: ProjectedEvent[]) => {
      if (phase === 'live') applied.push({ runner, projection, positions: events.map((e) => e.position) });
    };
    const newsroom = new Newsroom(rs.store);
    // The hook runs just after a commit: wait until every projection reported the position.
    const reported = (position: string) =>
      eventually(
        async () => PROJECTIONS.every((p) => applied.some((a) => a.projection === p.name && a.positions.includes(position))),
        (ok) => ok,
      );
    const first = rs.runner({ applicationName: 'runner-a', onBatchCommitted: record('a'), batchSize: 7 });
    const second = rs.runner({ applicationName: 'runner-b', onBatchCommitted: record('b'), batchSize: 7 });
    const third = rs.runner({ applicationName: 'runner-c', onBatchCommitted: record('c'), batchSize: 7 });
    await first.start();
    await eventually(async () => first.activeProjections().length, (n) => n === PROJECTIONS.length);
    await second.start();

    const one = await writeScenario(newsroom, 2, 'one');
    expect((await second.waitForPosition(one.last.position, 10_000)).reached).toBe(true);
    await reported(one.last.position);
    expect(second.activeProjections()).toEqual([]);
    expect(new Set(applied.map((a) => a.runner))).toEqual(new Set(['a']));
    // The lock: held once per projection, by runner a's dedicated connection.
    expect(await projectionLockHolders(rs)).toEqual([{ application_name: 'runner-a', n: String(PROJECTIONS.length) }]);

    // A clean stop: b takes over.
    await first.stop();
    await eventually(async () => second.activeProjections().length, (n) => n === PROJECTIONS.length);
    await third.start();
    const two = await writeScenario(newsroom, 2, 'two');
    expect((await second.waitForPosition(two.last.position, 10_000)).reached).toBe(true);
    await reported(two.last.position);
    const afterFirstStop = applied.length;
    expect(applied.some((a) => a.runner === 'b')).toBe(true);

    // A death (the dedicated connection is killed): c takes over, b stops applying.
    await rs.pool.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'runner-b' AND datname = current_database()`);
    await eventually(async () => third.activeProjections().length, (n) => n === PROJECTIONS.length);
    await eventually(async () => second.activeProjections().length, (n) => n === 0);
    const three = await writeScenario(newsroom, 2, 'three');
    expect((await third.waitForPosition(three.last.position, 10_000)).reached).toBe(true);
    await reported(three.last.position);
    expect(new Set(applied.slice(afterFirstStop).map((a) => a.runner))).toEqual(new Set(['c']));

    // Never both: every event was applied once per projection, and the models equal a clean build.
    for (const projection of PROJECTIONS) {
      const positions = applied.filter((a) => a.projection === projection.name).flatMap((a) => a.positions);
      expect(new Set(positions).size).toBe(positions.length);
      expect(await dumpModel(rs.pool, projection)).toEqual(await cleanModel(rs, projection));
    }
    const all = await rs.store.readAll({ maxCount: 100_000 });
    expect(applied.filter((a) => a.projection === 'audit').flatMap((a) => a.positions)).toEqual(all.map((e) => e.position));
    for (const runner of [second, third]) await runner.stop();
  });

  it('a runner named by nobody holds the locks as "copydesk process <pid> (projection runner)", so that an operator can tell which process feeds them', async () => {
    const runner = rs.runner();
    await runner.start();
    await eventually(async () => runner.activeProjections().length, (n) => n === PROJECTIONS.length);
    expect(await projectionLockHolders(rs)).toEqual([{ application_name: `copydesk process ${process.pid} (projection runner)`, n: String(PROJECTIONS.length) }]);
    await runner.stop();
  });
});

/** Each connection holding projection locks in the database, by application_name, with how many it holds. */
async function projectionLockHolders(rs: ReadSideDb): Promise<{ application_name: string; n: string }[]> {
  const { rows } = await rs.pool.query<{ application_name: string; n: string }>(
    `SELECT a.application_name, count(*)::text AS n FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
     WHERE l.locktype = 'advisory' AND l.classid = $1::bigint::oid AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
     GROUP BY a.application_name`,
    [LOCK_NAMESPACE],
  );
  return rows;
}

