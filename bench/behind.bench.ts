import { PROJECTIONS } from '../projections';
import { comparePositions } from '../src/event-store/event-store';
import { ProjectionRunner, readPosition } from '../src/projection-runner/projection-runner';
import { BenchContext } from './lib/context';
import { Cluster, openCluster } from './lib/cluster';
import { Clock, loadArticles, loadSources } from './lib/event-factory';
import { perSecond } from './lib/report';
import { ratio, round } from './lib/stats';

const NAMES = PROJECTIONS.map((p) => p.name);
const QUIET = { log: () => undefined, warn: () => undefined, error: () => undefined };

/** A runner in this process on the cluster until every projection has applied the head, or every rebuild asked for has swapped; its wall time. */
async function timed(cluster: Cluster, work: (runner: ProjectionRunner) => Promise<void>): Promise<number> {
  const { pool, eventStore: store, databaseUrl } = cluster.runtime;
  // The live tables never catch up as a bulk load here: this measures the live path.
  const runner = new ProjectionRunner({ store, pool, databaseUrl, projections: PROJECTIONS, logger: QUIET, bulkCatchUpThreshold: Number.MAX_SAFE_INTEGER });
  const started = performance.now();
  await runner.start();
  try {
    await work(runner);
    return performance.now() - started;
  } finally {
    await runner.stop();
  }
}

async function caughtUp(cluster: Cluster): Promise<void> {
  const head = await cluster.runtime.eventStore.headPosition();
  while (head !== null && comparePositions(await readPosition(cluster.runtime.pool, NAMES), head) < 0) await new Promise((resolve) => setTimeout(resolve, 100));
}

/**
 * A server restarted after a long stop, with half the log still to apply: the live path (pages of
 * 10,000 into the indexed live tables) against what a bulk catch-up would cost (a rebuild of the
 * whole log, swapped in), on the same log. Answers whether such tables should be rebuilt instead.
 */
export async function behindBenchmark(ctx: BenchContext): Promise<void> {
  const total = ctx.size(400_000, 20_000);
  const cluster = await openCluster(ctx.dataDir('behind'));
  try {
    const store = cluster.runtime.eventStore;
    const clock = new Clock();
    const sources = await loadSources(store, 100, clock);
    const half = { articles: Math.round(total / 200), eventsPerArticle: 100 };
    await loadArticles(store, sources, clock, half);
    ctx.log(`behind: ${total / 2} events projected live, then as many more written while stopped`);
    await timed(cluster, () => caughtUp(cluster));
    await loadArticles(store, sources, clock, half);
    const behind = half.articles * half.eventsPerArticle;
    const liveMs = await timed(cluster, () => caughtUp(cluster));
    ctx.log('behind: the same log rebuilt from the first event, as a bulk catch-up would');
    const bulkMs = await timed(cluster, async (runner) => {
      const asked = await Promise.all(NAMES.map((name) => runner.requestRebuild(name)));
      const since = Math.min(...asked.map((d) => d.getTime()));
      for (;;) {
        const { rows } = await cluster.runtime.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM projection_status WHERE rebuilt_at >= $1`, [new Date(since)]);
        if (rows[0].n === NAMES.length) return;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    });
    const live = (behind * 1000) / liveMs;
    const bulk = (behind * 1000) / bulkMs;
    ctx.report.add({ bench: 'behind', case: `${behind.toLocaleString('en-US')} of ${(2 * behind + 100).toLocaleString('en-US')} events to apply: live pages`, rate: perSecond(live, 'ev') });
    ctx.report.add({ bench: 'behind', case: 'the same as a rebuild and swap', rate: perSecond(bulk, 'ev'), baseline: perSecond(live, 'ev'), ratio: ratio(bulk, live) });
    ctx.report.detail('behind', { events: 2 * behind + 100, behind, liveMs: round(liveMs), rebuildMs: round(bulkMs) });
  } finally {
    await cluster.close();
  }
}
