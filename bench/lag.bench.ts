import { comparePositions } from '../src/event-store/event-store';
import { latency } from './commands.bench';
import { BenchContext } from './lib/context';
import { openCluster } from './lib/cluster';
import { HttpClient } from './lib/http';
import { openLoop, succeededOf } from './lib/load';
import { ArticleRef, Newsroom } from './lib/newsroom';
import { perSecond } from './lib/report';
import { startServer } from './lib/server';
import { LatencySummary, summarise } from './lib/stats';

const RATE = 300;

/** Reads of every kind of read model; each waits (X-Wait-For-Position) on the projections it reads. */
const PROBES: { projection: string; path: (articleId: string) => string }[] = [
  { projection: 'articles', path: (id) => `/articles/${id}` },
  { projection: 'audit', path: (id) => `/articles/${id}/history?limit=1` },
  { projection: 'articles (claims)', path: (id) => `/articles/${id}/claims?limit=1` },
  { projection: 'articles (topics)', path: () => '/topics?limit=1' },
  { projection: 'sources', path: () => '/sources?limit=1' },
];

interface LagRun {
  rate: number;
  achieved: number;
  lag: LatencySummary;
  perProjection: Record<string, LatencySummary>;
  commands: LatencySummary;
  probeFailures: number;
  failures: number;
  failureSamples: string[];
}

/** Writes at `rate`; after every third 2xx, a read waiting for its position on one projection (in turn). */
async function measureLag(newsroom: Newsroom, rate: number, durationMs: number): Promise<LagRun> {
  const lags = new Map<string, number[]>(PROBES.map((p) => [p.projection, []]));
  let probeFailures = 0;
  let sent = 0;
  const result = await openLoop(rate, durationMs, async () => {
    const write = await newsroom.writeMix();
    const answeredAt = performance.now();
    if (!write.ok || sent++ % 3 !== 0) return write;
    const probe = PROBES[Math.floor(sent / 3) % PROBES.length];
    const article: ArticleRef = { id: write.articleId!, sentences: [], quotes: [] };
    const read = await newsroom.get(article, { 'x-wait-for-position': write.position! }, probe.path(article.id));
    if (read.ok && read.readPosition !== undefined && comparePositions(read.readPosition, write.position!) >= 0) lags.get(probe.projection)!.push(performance.now() - answeredAt);
    else probeFailures++;
    return write;
  });
  // Latencies count failed writes too; the rate achieved counts only what succeeded.
  const commands = summarise([...result.latencies.values()].flat());
  return {
    rate,
    achieved: (succeededOf(result, () => true) * 1000) / result.elapsedMs,
    lag: summarise([...lags.values()].flat()),
    perProjection: Object.fromEntries([...lags].map(([name, list]) => [name, summarise(list)])),
    commands,
    probeFailures,
    failures: result.failures,
    failureSamples: result.failureSamples,
  };
}

/**
 * Benchmark 2: writes at a steady 300 commands/s (and, first, at a light 50/s to tell the wake-up
 * path from a saturated server). The lag runs from a write's answer to the answer of a read sent
 * with `X-Wait-For-Position: <its position>`, so it includes one read's round trip: an upper bound
 * on the time until the position is readable.
 */
export async function lagBenchmark(ctx: BenchContext): Promise<void> {
  const durationMs = ctx.size(30_000, 5_000);
  const articles = ctx.size(1000, 100);
  const cluster = await openCluster(ctx.dataDir('lag'), { pgStatStatements: ctx.profile });
  const server = await startServer(cluster.dataDir, { nodeArgs: ctx.nodeArgs('lag-server') });
  const http = new HttpClient(server.url, 256);
  const runs: LagRun[] = [];
  try {
    ctx.log(`lag: seeding ${articles} articles`);
    const newsroom = new Newsroom(http, 7);
    await newsroom.seed(articles, 20);
    await openLoop(50, ctx.size(3000, 1000), newsroom.writeMix);
    for (const rate of [50, RATE]) {
      ctx.log(`lag: ${rate} commands/s for ${durationMs / 1000} s`);
      const run = await measureLag(newsroom, rate, durationMs);
      runs.push(run);
      const targeted = rate === RATE;
      ctx.report.add({
        bench: 'lag',
        case: `${rate} cmd/s offered: 2xx -> readable`,
        rate: perSecond(run.achieved, 'cmd'),
        ...latency(run.lag),
        ...(targeted ? { target: 'p99 < 50 ms', met: run.lag.p99 < 50 } : {}),
      });
      if (targeted) for (const [projection, summary] of Object.entries(run.perProjection)) ctx.report.add({ bench: 'lag', case: `  ${projection}`, ...latency(summary) });
      ctx.report.add({ bench: 'lag', case: `${rate} cmd/s offered: command latency`, ...latency(run.commands) });
      if (run.probeFailures > 0 || run.failures > 0)
        ctx.report.note(`lag at ${rate}/s: ${run.probeFailures} probes not answered in time, ${run.failures} failed writes ${run.failureSamples.join('; ')}`);
    }
  } finally {
    http.close();
    await server.stop();
    await cluster.close();
    ctx.report.detail('lag', { durationMs, runs });
  }
}
