import { Pool } from 'pg';
import { startPeer } from './emmett-peer/run';
import { BenchContext } from './lib/context';
import { Cluster, openCluster, resetStatements, topStatements } from './lib/cluster';
import { cpuMeter } from './lib/cpu';
import { HttpClient } from './lib/http';
import { LoadResult, closedLoop, latenciesOf, mergeResults, succeededOf } from './lib/load';
import { Newsroom, isWrite } from './lib/newsroom';
import { perSecond } from './lib/report';
import { ServerProcess, startServer } from './lib/server';
import { LatencySummary, ratio, round, summarise } from './lib/stats';

const CONCURRENCIES = [1, 16, 64];
const PAYLOAD = 'x'.repeat(500);
/** With the peer, each side's measured time is split into this many slices, taken in turn. */
const SLICES = 6;

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

/** A server under test: its process, its PostgreSQL cluster's data directory, and the newsroom mix against it. */
interface Side {
  name: string;
  dataDir: string;
  server: ServerProcess;
  http: HttpClient;
  newsroom: Newsroom;
}

type CpuUsed = { serverMs: number; postgresMs: number; clientMs: number };

/**
 * The mix at `concurrency` for `durationMs` on each side. With several sides, in `SLICES` slices taken
 * in turn (Copydesk, [Copydesk before], peer, Copydesk, …), so that what the shared machine's neighbours
 * do meanwhile weighs on each alike; each side's CPU is metered over its own slices only.
 */
async function measure(sides: Side[], concurrency: number, durationMs: number): Promise<{ result: LoadResult; cpu: CpuUsed }[]> {
  const slices = sides.length > 1 ? SLICES : 1;
  const parts = sides.map(() => ({ results: [] as LoadResult[], cpu: { serverMs: 0, postgresMs: 0, clientMs: 0 } }));
  for (let slice = 0; slice < slices; slice++)
    for (const [i, side] of sides.entries()) {
      const meter = cpuMeter(side.dataDir, side.server.pid);
      parts[i].results.push(await closedLoop(concurrency, durationMs / slices, side.newsroom.mix));
      const used = meter.stop();
      parts[i].cpu.serverMs += used.serverMs;
      parts[i].cpu.postgresMs += used.postgresMs;
      parts[i].cpu.clientMs += used.clientMs;
    }
  return parts.map((p) => ({ result: mergeResults(p.results), cpu: p.cpu }));
}

/**
 * Benchmark 1 (and 5 with `eventStore`): the newsroom mix over HTTP at concurrency 1, 16 and 64
 * against `copydesk serve`, each beside the INSERT baseline at the same concurrency. On the Postgres
 * event log, the Emmett peer (bench/emmett-peer) runs the same mix on the same PostgreSQL, alternating
 * with Copydesk, and the report gives Copydesk ÷ peer; with `before`, so does a server built from another
 * commit, on a cluster of its own.
 */
export async function commandsBenchmark(ctx: BenchContext, options: { eventStore?: string; label?: string; before?: { ref: string; mainJs: string } } = {}): Promise<void> {
  const label = options.label ?? 'commands';
  const durationMs = ctx.size(30_000, 3_000);
  const warmupMs = ctx.size(3_000, 500);
  const articles = ctx.size(1000, 100);
  const withPeer = !options.eventStore;
  const before = options.before;
  const beforeLabel = before ? `${label} @${before.ref}` : '';
  const cluster = await openCluster(ctx.dataDir(label.replace(/\W+/g, '-')), { eventStore: options.eventStore, pgStatStatements: ctx.profile });
  let beforeCluster: Cluster | undefined;
  const sides: Side[] = [];
  const details: Record<string, unknown>[] = [];
  const beforeDetails: Record<string, unknown>[] = [];
  const side = (name: string, dataDir: string, server: ServerProcess): Side => {
    const http = new HttpClient(server.url, 64);
    return { name, dataDir, server, http, newsroom: new Newsroom(http) };
  };
  try {
    const server = await startServer(cluster.dataDir, { eventStore: options.eventStore, nodeArgs: ctx.nodeArgs(`${label.replace(/\W+/g, '-')}-server`) });
    sides.push(side(label, cluster.dataDir, server));
    if (before) {
      beforeCluster = await openCluster(ctx.dataDir(beforeLabel.replace(/\W+/g, '-')), { eventStore: options.eventStore, pgStatStatements: ctx.profile });
      const old = await startServer(beforeCluster.dataDir, { eventStore: options.eventStore, mainJs: before.mainJs, nodeArgs: ctx.nodeArgs(`${beforeLabel.replace(/\W+/g, '-')}-server`) });
      sides.push(side(beforeLabel, beforeCluster.dataDir, old));
    }
    if (withPeer) sides.push(side('emmett peer', cluster.dataDir, await startPeer(cluster, ctx.nodeArgs('emmett-peer'))));
    for (const s of sides) {
      ctx.log(`${s.name}: seeding ${articles} articles`);
      await s.newsroom.seed(articles, 20);
    }
    for (const concurrency of CONCURRENCIES) {
      ctx.log(`${label}: INSERT baseline at concurrency ${concurrency}`);
      await insertBaseline(cluster, concurrency, warmupMs);
      const baselineCpu = cpuMeter(cluster.dataDir);
      const baseline = await insertBaseline(cluster, concurrency, durationMs);
      const baselineUsed = baselineCpu.stop();
      ctx.log(`${label}: newsroom mix at concurrency ${concurrency} for ${durationMs / 1000} s${withPeer ? `, alternating with the peer in ${SLICES} slices` : ''}`);
      for (const s of sides) await closedLoop(concurrency, warmupMs, s.newsroom.mix);
      await resetStatements(cluster);
      if (beforeCluster) await resetStatements(beforeCluster);
      const measured = await measure(sides, concurrency, durationMs);
      const mine = measured[0];
      const old = before ? measured[1] : undefined;
      const peer = withPeer ? measured[measured.length - 1] : undefined;
      const statements = await topStatements(cluster);

      const mix = mine.result;
      // Latencies count failed requests too; rates count only what succeeded.
      const writes = summarise(latenciesOf(mix, isWrite));
      const reads = summarise(latenciesOf(mix, (k) => !isWrite(k)));
      const inserts = summarise(latenciesOf(baseline, () => true));
      const commandsPerSecond = rate(succeededOf(mix, isWrite), mix);
      const readsPerSecond = rate(succeededOf(mix, (k) => !isWrite(k)), mix);
      const insertsPerSecond = rate(succeededOf(baseline, () => true), baseline);
      const r = ratio(commandsPerSecond, insertsPerSecond);
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
      if (old && beforeCluster) beforeDetails.push(await reportBefore(ctx, beforeLabel, concurrency, old, insertsPerSecond, beforeCluster));
      const run: Record<string, unknown> = {
        concurrency,
        durationMs: round(mix.elapsedMs),
        commandsPerSecond: round(commandsPerSecond),
        requestsPerSecond: round(commandsPerSecond + readsPerSecond),
        commands: writes,
        reads,
        perKind: Object.fromEntries([...mix.latencies].map(([kind, list]) => [kind, summarise(list)])),
        failures: mix.failures,
        cpuMsPerRequest: perRequest(mine.cpu, writes.count + reads.count),
        baseline: { insertsPerSecond: round(insertsPerSecond), latency: inserts, cpuMsPerInsert: perRequest(baselineUsed, inserts.count) },
        ratio: round(r, 3),
        ...(statements.length ? { topStatements: statements } : {}),
      };
      if (peer) run.emmettPeer = reportPeer(ctx, concurrency, peer, commandsPerSecond);
      details.push(run);
    }
  } finally {
    for (const s of sides) {
      s.http.close();
      await s.server.stop();
    }
    await cluster.close();
    await beforeCluster?.close();
    ctx.report.detail(label, { articles, durationMs, eventStore: options.eventStore ? 'eventstoredb' : 'postgres', runs: details });
    if (before) ctx.report.detail(beforeLabel, { articles, durationMs, ref: before.ref, runs: beforeDetails });
  }
}

/** The rows of the server built from another commit, against the same INSERT baseline. */
async function reportBefore(
  ctx: BenchContext,
  label: string,
  concurrency: number,
  measured: { result: LoadResult; cpu: CpuUsed },
  insertsPerSecond: number,
  cluster: Cluster,
): Promise<Record<string, unknown>> {
  const mix = measured.result;
  const writes = summarise(latenciesOf(mix, isWrite));
  const reads = summarise(latenciesOf(mix, (k) => !isWrite(k)));
  const commandsPerSecond = rate(succeededOf(mix, isWrite), mix);
  ctx.report.add({
    bench: label,
    case: `c=${concurrency} commands`,
    rate: perSecond(commandsPerSecond, 'cmd'),
    ...latency(writes),
    baseline: perSecond(insertsPerSecond, 'ins'),
    ratio: ratio(commandsPerSecond, insertsPerSecond),
  });
  if (mix.failures > 0) ctx.report.note(`${label} c=${concurrency}: ${mix.failures} failed requests, e.g. ${mix.failureSamples.join('; ')}`);
  const statements = await topStatements(cluster);
  return {
    concurrency,
    commandsPerSecond: round(commandsPerSecond),
    commands: writes,
    reads,
    failures: mix.failures,
    cpuMsPerRequest: perRequest(measured.cpu, writes.count + reads.count),
    ...(statements.length ? { topStatements: statements } : {}),
  };
}

/** The peer's rows: commands/s, latencies, and Copydesk ÷ peer measured in the same slices' turns. */
function reportPeer(ctx: BenchContext, concurrency: number, peer: { result: LoadResult; cpu: CpuUsed }, copydesk: number): Record<string, unknown> {
  const label = 'emmett peer';
  const mix = peer.result;
  const writes = summarise(latenciesOf(mix, isWrite));
  const reads = summarise(latenciesOf(mix, (k) => !isWrite(k)));
  const commandsPerSecond = rate(succeededOf(mix, isWrite), mix);
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
  return {
    commandsPerSecond: round(commandsPerSecond),
    commands: writes,
    reads,
    failures: mix.failures,
    cpuMsPerRequest: perRequest(peer.cpu, writes.count + reads.count),
    copydeskOverPeer: round(r, 3),
  };
}

/** CPU per request: what a machine with more cores (or fewer neighbours) could turn into throughput. */
function perRequest(used: CpuUsed, requests: number): Record<string, number> {
  return { server: round(used.serverMs / requests, 3), postgres: round(used.postgresMs / requests, 3), client: round(used.clientMs / requests, 3) };
}

export function latency(s: LatencySummary): { p50: number; p99: number; max: number } {
  return { p50: s.p50, p99: s.p99, max: s.max };
}
