import { PROJECTIONS } from '../projections';
import { ProjectionRunner } from '../src/projection-runner/projection-runner';
import { BenchContext } from './lib/context';
import { Cluster, openCluster } from './lib/cluster';
import { Clock, loadArticles, loadSources } from './lib/event-factory';
import { waitCaughtUp } from './lib/projections';
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

/** Every projection rebuilt from the first event and swapped in, as a bulk catch-up does. */
async function rebuildAll(cluster: Cluster, runner: ProjectionRunner): Promise<void> {
  const asked = await Promise.all(NAMES.map((name) => runner.requestRebuild(name)));
  const since = new Date(Math.min(...asked.map((d) => d.getTime())));
  for (;;) {
    const { rows } = await cluster.runtime.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM projection_status WHERE rebuilt_at >= $1`, [since]);
    if (rows[0].n === NAMES.length) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * The live path (pages of 10,000 into the indexed live tables) against what a bulk catch-up costs
 * (a rebuild of the whole log, swapped in), on the same log: for a fresh server (half the log, from
 * empty), and for a server restarted after a long stop with half the log still to apply. Answers
 * when tables should be rebuilt instead.
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
    const first = half.articles * half.eventsPerArticle + 100;
    ctx.log(`behind: ${first} events projected live from empty, then rebuilt`);
    const freshMs = await timed(cluster, () => waitCaughtUp(cluster));
    const firstRebuildMs = await timed(cluster, (runner) => rebuildAll(cluster, runner));
    ctx.log('behind: as many more written while stopped, projected live, then everything rebuilt');
    await loadArticles(store, sources, clock, half);
    const behind = half.articles * half.eventsPerArticle;
    const liveMs = await timed(cluster, () => waitCaughtUp(cluster));
    const bulkMs = await timed(cluster, (runner) => rebuildAll(cluster, runner));
    const rate = (events: number, ms: number) => (events * 1000) / ms;
    const fresh = rate(first, freshMs);
    const live = rate(behind, liveMs);
    ctx.report.add({ bench: 'behind', case: `fresh: ${first.toLocaleString('en-US')} events from empty, live pages`, rate: perSecond(fresh, 'ev') });
    ctx.report.add({ bench: 'behind', case: 'fresh: the same as a rebuild and swap', rate: perSecond(rate(first, firstRebuildMs), 'ev'), baseline: perSecond(fresh, 'ev'), ratio: ratio(rate(first, firstRebuildMs), fresh) });
    ctx.report.add({ bench: 'behind', case: `${behind.toLocaleString('en-US')} of ${(first + behind).toLocaleString('en-US')} events to apply: live pages`, rate: perSecond(live, 'ev') });
    ctx.report.add({ bench: 'behind', case: 'the same as a rebuild and swap', rate: perSecond(rate(behind, bulkMs), 'ev'), baseline: perSecond(live, 'ev'), ratio: ratio(rate(behind, bulkMs), live) });
    ctx.report.detail('behind', { fresh: { events: first, liveMs: round(freshMs), rebuildMs: round(firstRebuildMs) }, behind: { events: first + behind, behind, liveMs: round(liveMs), rebuildMs: round(bulkMs) } });
  } finally {
    await cluster.close();
  }
}
