import { Pool } from 'pg';
import { BenchContext } from './lib/context';
import { Cluster, openCluster, resetStatements, topStatements } from './lib/cluster';
import { cpuMeter } from './lib/cpu';
import { HttpClient } from './lib/http';
import { LoadResult, closedLoop, latenciesOf, succeededOf } from './lib/load';
import { Newsroom, isWrite } from './lib/newsroom';
import { perSecond } from './lib/report';
import { ServerProcess, startServer } from './lib/server';
import { startPeer } from './emmett-peer/run';
import { LatencySummary, ratio, round, summarise } from './lib/stats';

const CONCURRENCIES = [1, 16, 64];
const PAYLOAD = 'x'.repeat(500);

/** The cost floor of an acknowledged write: one durable single-row INSERT transaction per request, straight on the server's PostgreSQL. */
async function insertBaseline(cluster: Cluster, concurrency: number, durationMs: number): Promise<LoadResult> {
  const pool = new Pool({ connectionString: cluster.ownerUrl, max: concurrency });
  try {
    await pool.query(`CREATE TABLE IF NOT EXISTS bench_ack (id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now(), payload text NOT NULL)`);
    await Promise.all(Array.from({ length: concurrency }, () => pool.query('SELECT 1')));
    return await closedLoop(concurrency, durationMs, async () => {
      const started = performance.now();
      await pool.query('INSERT INTO bench_ack (payload) VALUES ($1)', [PAYLOAD]);
      return { kind: 'insert', ok: true, ms: performance.now() - started };
    });
  } finally {
    await pool.end();
  }
}

const rate = (count: number, result: LoadResult) => (count * 1000) / result.elapsedMs;

/**
 * Benchmark 1 (and 5 with `eventStore`): the newsroom mix over HTTP at concurrency 1, 16 and 64
 * against `copydesk serve`, each beside the INSERT baseline at the same concurrency.
 */
export async function commandsBenchmark(ctx: BenchContext, options: { eventStore?: string; label?: string; mainJs?: string; peer?: boolean } = {}): Promise<void> {
  const label = options.label ?? 'commands';
  const durationMs = ctx.size(30_000, 3_000);
  const warmupMs = ctx.size(3_000, 500);
  const articles = ctx.size(1000, 100);
  const cluster = await openCluster(ctx.dataDir(label.replace(/\W+/g, '-')), { eventStore: options.eventStore, pgStatStatements: ctx.profile });
  const server = await startServer(cluster.dataDir, { eventStore: options.eventStore, mainJs: options.mainJs, nodeArgs: ctx.nodeArgs(`${label.replace(/\W+/g, '-')}-server`) });
  const http = new HttpClient(server.url, 64);
  const details: Record<string, unknown>[] = [];
  const copydeskRates = new Map<number, number>();
  try {
    ctx.log(`${label}: seeding ${articles} articles`);
    const newsroom = new Newsroom(http);
    await newsroom.seed(articles, 20);
    for (const concurrency of CONCURRENCIES) {
      ctx.log(`${label}: INSERT baseline at concurrency ${concurrency}`);
      await insertBaseline(cluster, concurrency, warmupMs);
      const baselineCpu = cpuMeter(cluster.dataDir);
      const baseline = await insertBaseline(cluster, concurrency, durationMs);
      const baselineUsed = baselineCpu.stop();
      ctx.log(`${label}: newsroom mix at concurrency ${concurrency} for ${durationMs / 1000} s`);
      await closedLoop(concurrency, warmupMs, newsroom.mix);
      await resetStatements(cluster);
      const mixCpu = cpuMeter(cluster.dataDir, server.pid);
      const mix = await closedLoop(concurrency, durationMs, newsroom.mix);
      const mixUsed = mixCpu.stop();
      const statements = await topStatements(cluster);

      // Latencies count failed requests too; rates count only what succeeded.
      const writes = summarise(latenciesOf(mix, isWrite));
      const reads = summarise(latenciesOf(mix, (k) => !isWrite(k)));
      const inserts = summarise(latenciesOf(baseline, () => true));
      const commandsPerSecond = rate(succeededOf(mix, isWrite), mix);
      const readsPerSecond = rate(succeededOf(mix, (k) => !isWrite(k)), mix);
      const insertsPerSecond = rate(succeededOf(baseline, () => true), baseline);
      const r = ratio(commandsPerSecond, insertsPerSecond);
      copydeskRates.set(concurrency, commandsPerSecond);
      const targeted = concurrency === 16;
      ctx.report.add({
        bench: label,
        case: `c=${concurrency} commands`,
        rate: perSecond(commandsPerSecond, 'cmd'),
        ...latency(writes),
        baseline: perSecond(insertsPerSecond, 'ins'),
        ratio: r,
        ...(targeted ? { target: 'ratio >= 0.5, p99 < 25 ms', met: r >= 0.5 && writes.p99 < 25 } : {}),
      });
      ctx.report.add({ bench: label, case: `c=${concurrency} GET /articles/{id}`, rate: perSecond(readsPerSecond, 'req'), ...latency(reads) });
      ctx.report.add({ bench: label, case: `c=${concurrency} INSERT baseline`, rate: perSecond(insertsPerSecond, 'ins'), ...latency(inserts) });
      if (mix.failures > 0)
        ctx.report.note(`${label} c=${concurrency}: ${mix.failures} failed requests (in the latencies, not in the rates), e.g. ${mix.failureSamples.join('; ')}`);
      details.push({
        concurrency,
        durationMs: round(mix.elapsedMs),
        commandsPerSecond: round(commandsPerSecond),
        requestsPerSecond: round(commandsPerSecond + readsPerSecond),
        commands: writes,
        reads,
        perKind: Object.fromEntries([...mix.latencies].map(([kind, list]) => [kind, summarise(list)])),
        failures: mix.failures,
        cpuMsPerRequest: perRequest(mixUsed, writes.count + reads.count),
        baseline: { insertsPerSecond: round(insertsPerSecond), latency: inserts, cpuMsPerInsert: perRequest(baselineUsed, inserts.count) },
        ratio: round(r, 3),
        ...(statements.length ? { topStatements: statements } : {}),
      });
    }
    http.close();
    await server.stop();
    if (!options.eventStore && options.peer !== false) details.push({ emmettPeer: await peerBenchmark(ctx, cluster, copydeskRates, { articles, durationMs, warmupMs }) });
  } finally {
    http.close();
    await server.stop();
    await cluster.close();
    ctx.report.detail(label, { articles, durationMs, eventStore: options.eventStore ? 'eventstoredb' : 'postgres', runs: details });
  }
}

/**
 * The same mix, load generator and PostgreSQL against the Emmett peer (bench/emmett-peer), after
 * Copydesk's server has stopped: commands/s, latencies, CPU, and Copydesk ÷ peer at each concurrency.
 */
async function peerBenchmark(
  ctx: BenchContext,
  cluster: Cluster,
  copydeskRates: Map<number, number>,
  sizes: { articles: number; durationMs: number; warmupMs: number },
): Promise<Record<string, unknown>[]> {
  const label = 'emmett peer';
  let peer: ServerProcess | undefined;
  let http: HttpClient | undefined;
  const runs: Record<string, unknown>[] = [];
  try {
    peer = await startPeer(cluster, ctx.nodeArgs('emmett-peer'));
    http = new HttpClient(peer.url, 64);
    ctx.log(`${label}: seeding ${sizes.articles} articles`);
    const newsroom = new Newsroom(http);
    await newsroom.seed(sizes.articles, 20);
    for (const concurrency of CONCURRENCIES) {
      ctx.log(`${label}: newsroom mix at concurrency ${concurrency} for ${sizes.durationMs / 1000} s`);
      await closedLoop(concurrency, sizes.warmupMs, newsroom.mix);
      const cpu = cpuMeter(cluster.dataDir, peer.pid);
      const mix = await closedLoop(concurrency, sizes.durationMs, newsroom.mix);
      const used = cpu.stop();
      const writes = summarise(latenciesOf(mix, isWrite));
      const reads = summarise(latenciesOf(mix, (k) => !isWrite(k)));
      const commandsPerSecond = rate(succeededOf(mix, isWrite), mix);
      const copydesk = copydeskRates.get(concurrency) ?? NaN;
      const r = ratio(copydesk, commandsPerSecond);
      ctx.report.add({
        bench: label,
        case: `c=${concurrency} commands`,
        rate: perSecond(commandsPerSecond, 'cmd'),
        ...latency(writes),
        baseline: perSecond(copydesk, 'copydesk cmd'),
        ratio: r,
        ...(concurrency === 16 ? { target: 'copydesk ÷ peer >= 1.5', met: r >= 1.5 } : {}),
      });
      ctx.report.add({ bench: label, case: `c=${concurrency} GET /articles/{id}`, rate: perSecond(rate(succeededOf(mix, (k) => !isWrite(k)), mix), 'req'), ...latency(reads) });
      if (mix.failures > 0) ctx.report.note(`${label} c=${concurrency}: ${mix.failures} failed requests, e.g. ${mix.failureSamples.join('; ')}`);
      runs.push({
        concurrency,
        commandsPerSecond: round(commandsPerSecond),
        commands: writes,
        reads,
        failures: mix.failures,
        cpuMsPerRequest: perRequest(used, writes.count + reads.count),
        copydeskOverPeer: round(r, 3),
      });
    }
  } finally {
    http?.close();
    await peer?.stop();
  }
  return runs;
}

/** CPU per request: what a machine with more cores (or fewer neighbours) could turn into throughput. */
function perRequest(used: { serverMs: number; postgresMs: number; clientMs: number }, requests: number): Record<string, number> {
  return { server: round(used.serverMs / requests, 3), postgres: round(used.postgresMs / requests, 3), client: round(used.clientMs / requests, 3) };
}

export function latency(s: LatencySummary): { p50: number; p99: number; max: number } {
  return { p50: s.p50, p99: s.p99, max: s.max };
}
