import { BenchContext } from './lib/context';
import { openCluster } from './lib/cluster';
import { cpuMeter } from './lib/cpu';
import { Answer, HttpClient } from './lib/http';
import { closedLoop, latenciesOf, succeededOf } from './lib/load';
import { Newsroom, isWrite } from './lib/newsroom';
import { perSecond } from './lib/report';
import { ServerProcess, startServer } from './lib/server';
import { round, summarise } from './lib/stats';
import { Metrics } from '../src/metrics/metrics';

/**
 * What recording costs a write request in-process, without the noise of a shared machine: one HTTP
 * observation, one command count and duration, one append duration, per iteration (µs).
 */
function recordingMicroseconds(iterations: number): number {
  const metrics = new Metrics(true);
  const routes = ['/articles/:id/quotes', '/articles/:id/claims', '/articles/:id/topics', '/articles/:id'];
  const commands = ['AddQuote', 'RecordClaim', 'TagTopic', 'AttributeQuote'];
  for (let i = 0; i < 10_000; i++) metrics.httpRequest('POST', routes[i % 4], 201, 0.004);
  const started = performance.now();
  for (let i = 0; i < iterations; i++) {
    metrics.httpRequest('POST', routes[i & 3], 201, 0.004 + (i % 7) / 1000);
    metrics.command(commands[i & 3], 'ok', 0.003 + (i % 5) / 1000);
    metrics.append('postgres', 0.001 + (i % 3) / 1000);
  }
  const elapsed = performance.now() - started;
  void metrics.registry.clear();
  return (elapsed * 1000) / iterations;
}

const CONCURRENCY = 16;

/** The newsroom's HTTP client, pointed at whichever server runs now (the mix keeps its articles across servers). */
class CurrentServer {
  client: HttpClient | undefined;
  send(method: string, path: string, token: string, body?: unknown, headers?: Record<string, string>): Promise<Answer> {
    return this.client!.send(method, path, token, body, headers);
  }
}

interface Totals {
  commands: number;
  elapsedMs: number;
  serverCpuMs: number;
  requests: number;
  latencies: number[];
  runs: number[];
}

/**
 * What the metrics cost: the newsroom mix at concurrency 16 against `copydesk serve` with `METRICS=on` and
 * with `METRICS=off`, one server after the other on the same data, alternating (on off, off on, …) so
 * that a neighbour's load falls on both alike. Prints commands/s of each, their ratio, and the server's
 * CPU per request (less noisy than throughput on a shared machine). Target: metrics cost < 3 %.
 */
export async function metricsBenchmark(ctx: BenchContext): Promise<void> {
  const durationMs = ctx.size(20_000, 4_000);
  const warmupMs = ctx.size(3_000, 1_000);
  const rounds = ctx.size(3, 2);
  const cluster = await openCluster(ctx.dataDir('metrics'));
  const current = new CurrentServer();
  const newsroom = new Newsroom(current as unknown as HttpClient);
  const totals: Record<'on' | 'off', Totals> = {
    on: { commands: 0, elapsedMs: 0, serverCpuMs: 0, requests: 0, latencies: [], runs: [] },
    off: { commands: 0, elapsedMs: 0, serverCpuMs: 0, requests: 0, latencies: [], runs: [] },
  };
  const serve = async (mode: 'on' | 'off'): Promise<ServerProcess> => {
    const server = await startServer(cluster.dataDir, { env: { METRICS: mode }, nodeArgs: ctx.nodeArgs(`metrics-${mode}-server`) });
    current.client = new HttpClient(server.url, 64);
    return server;
  };
  const stop = async (server: ServerProcess) => {
    current.client?.close();
    current.client = undefined;
    await server.stop();
  };
  try {
    const seeding = await serve('on');
    try {
      ctx.log(`metrics: seeding ${ctx.size(500, 100)} articles`);
      await newsroom.seed(ctx.size(500, 100), 20);
    } finally {
      await stop(seeding);
    }
    for (let r = 0; r < rounds; r++) {
      for (const mode of r % 2 === 0 ? (['on', 'off'] as const) : (['off', 'on'] as const)) {
        const server = await serve(mode);
        try {
          ctx.log(`metrics: round ${r + 1}, METRICS=${mode}, c=${CONCURRENCY} for ${durationMs / 1000} s`);
          await closedLoop(CONCURRENCY, warmupMs, newsroom.mix);
          const cpu = cpuMeter(cluster.dataDir, server.pid);
          const mix = await closedLoop(CONCURRENCY, durationMs, newsroom.mix);
          const used = cpu.stop();
          const t = totals[mode];
          const commands = succeededOf(mix, isWrite);
          t.commands += commands;
          t.elapsedMs += mix.elapsedMs;
          t.serverCpuMs += used.serverMs;
          t.requests += succeededOf(mix, () => true);
          t.latencies.push(...latenciesOf(mix, isWrite));
          t.runs.push(round((commands * 1000) / mix.elapsedMs));
          if (mix.failures > 0) ctx.report.note(`metrics METRICS=${mode}: ${mix.failures} failed requests, e.g. ${mix.failureSamples.join('; ')}`);
        } finally {
          await stop(server);
        }
      }
    }
  } finally {
    current.client?.close();
    await cluster.close();
  }
  const perRequestUs = recordingMicroseconds(ctx.size(1_000_000, 200_000));
  const rate = (t: Totals) => (t.commands * 1000) / t.elapsedMs;
  const cpuPerRequest = (t: Totals) => t.serverCpuMs / t.requests;
  const throughputCost = 1 - rate(totals.on) / rate(totals.off);
  const cpuCost = cpuPerRequest(totals.on) / cpuPerRequest(totals.off) - 1;
  for (const mode of ['off', 'on'] as const) {
    const t = totals[mode];
    const latency = summarise(t.latencies);
    ctx.report.add({
      bench: 'metrics',
      case: `c=${CONCURRENCY} METRICS=${mode}`,
      rate: perSecond(rate(t), 'cmd'),
      p50: latency.p50,
      p99: latency.p99,
      max: latency.max,
      ...(mode === 'on' ? { ratio: round(rate(totals.on) / rate(totals.off), 3), target: 'cost < 3 %', met: throughputCost < 0.03 } : {}),
    });
  }
  ctx.report.note(
    `metrics: commands/s with metrics ÷ without = ${round(rate(totals.on) / rate(totals.off), 3)} (cost ${round(throughputCost * 100, 1)} %); ` +
      `server CPU per request ${round(cpuPerRequest(totals.on), 3)} ms on, ${round(cpuPerRequest(totals.off), 3)} ms off (cost ${round(cpuCost * 100, 1)} %); ` +
      `runs on ${totals.on.runs.join(', ')} cmd/s, off ${totals.off.runs.join(', ')} cmd/s; ` +
      `recording in-process: ${round(perRequestUs, 2)} µs per write request (${round((perRequestUs / 1000 / cpuPerRequest(totals.off)) * 100, 2)} % of the server's CPU per request without metrics)`,
  );
  ctx.report.detail('metrics', {
    concurrency: CONCURRENCY,
    durationMs,
    rounds,
    on: { commandsPerSecond: round(rate(totals.on)), serverCpuMsPerRequest: round(cpuPerRequest(totals.on), 3), runs: totals.on.runs },
    off: { commandsPerSecond: round(rate(totals.off)), serverCpuMsPerRequest: round(cpuPerRequest(totals.off), 3), runs: totals.off.runs },
    throughputCost: round(throughputCost, 4),
    recordingMicrosecondsPerWrite: round(perRequestUs, 3),
    cpuCost: round(cpuCost, 4),
  });
}
