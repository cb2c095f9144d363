import { Client } from 'pg';
import { latency } from './commands.bench';
import { PROJECTIONS } from '../projections';
import { articleDecider } from '../src/newsroom/article/article.decider';
import { fold } from '../src/newsroom/command-executor';
import { BenchContext } from './lib/context';
import { Cluster, openCluster, resetStatements, topStatements } from './lib/cluster';
import { ArticleScript, Clock, loadArticles, loadSources } from './lib/event-factory';
import { HttpClient } from './lib/http';
import { ArticleRef, Newsroom } from './lib/newsroom';
import { auditTable, runRebuild, waitCaughtUp } from './lib/projections';
import { perSecond } from './lib/report';
import { startServer } from './lib/server';
import { LatencySummary, ratio, round, summarise } from './lib/stats';

export interface StoreSelection {
  rebuild: boolean;
  growth: boolean;
}

/** Sequential add quote / record claim / tag topic commands over `articles`; their latencies. Stops early past `budgetMs` (after three). */
async function commandLatencies(newsroom: Newsroom, articles: ArticleRef[], count: number, budgetMs = Infinity): Promise<LatencySummary> {
  const latencies: number[] = [];
  const started = performance.now();
  for (let i = 0; i < count && (i < 3 || performance.now() - started < budgetMs); i++) latencies.push(await oneCommand(newsroom, articles, i));
  return summarise(latencies);
}

/** The i-th command of the sequence: add quote, record claim, tag topic in turn, over `articles`; its latency. */
async function oneCommand(newsroom: Newsroom, articles: ArticleRef[], i: number): Promise<number> {
  const article = articles[i % articles.length];
  const kind = i % 3;
  const outcome = kind === 0 ? await newsroom.addQuote(article) : kind === 1 ? await newsroom.recordClaim(article) : await newsroom.tagTopic(article);
  if (!outcome.ok) throw new Error(`command failed: ${outcome.error}`);
  return outcome.ms;
}

/**
 * The same commands on two servers (a small store and a large one), a few fresh articles each,
 * warm-up, then `count` commands at concurrency 1 alternating between them, so that whatever else
 * the shared machine does meanwhile weighs on both alike.
 */
async function measureInterleaved(small: Newsroom, large: Newsroom, count: number): Promise<{ small: LatencySummary; large: LatencySummary }> {
  for (const newsroom of [small, large]) {
    await newsroom.seed(20, 5, 4);
    await commandLatencies(newsroom, newsroom.articles, Math.max(60, count / 5));
  }
  const latencies = { small: [] as number[], large: [] as number[] };
  for (let i = 0; i < count; i++) {
    const order = i % 2 === 0 ? (['small', 'large'] as const) : (['large', 'small'] as const);
    for (const which of order) {
      const newsroom = which === 'small' ? small : large;
      latencies[which].push(await oneCommand(newsroom, newsroom.articles, i));
    }
  }
  return { small: summarise(latencies.small), large: summarise(latencies.large) };
}

/**
 * What an operator does after a bulk load, and what keeps the measurement about the store's size
 * rather than about background maintenance running through it: VACUUM ANALYZE (the autovacuum a
 * million fresh rows would otherwise start mid-measurement) and a CHECKPOINT (the flush of the load's
 * dirty pages). Done the same way before both growth measurements.
 */
async function settle(cluster: Cluster): Promise<void> {
  // A client of its own: the runtime's pool has a statement timeout.
  const client = new Client({ connectionString: cluster.ownerUrl });
  await client.connect();
  try {
    await client.query('VACUUM (ANALYZE)');
    await client.query('CHECKPOINT');
  } finally {
    await client.end();
  }
}

/** A server on the cluster with its projections caught up, for `work`; answers how long the catch-up took. */
async function withServer<T>(
  ctx: BenchContext,
  cluster: Cluster,
  eventStore: string | undefined,
  work: (newsroom: Newsroom) => Promise<T>,
  progress?: (line: string) => void,
): Promise<{ result: T; catchUpMs: number }> {
  const server = await startServer(cluster.dataDir, { eventStore, nodeArgs: ctx.nodeArgs('growth-server') });
  const http = new HttpClient(server.url, 4);
  try {
    const started = performance.now();
    await waitCaughtUp(cluster, progress);
    const catchUpMs = performance.now() - started;
    await settle(cluster);
    return { result: await work(new Newsroom(http, 11)), catchUpMs };
  } finally {
    http.close();
    await server.stop();
  }
}

/**
 * Benchmarks 3 and 4 (and 5's rebuild with `eventStore`) on one store: latency with about a thousand
 * events, a bulk load to a million through the port, the rebuild of every projection beside the COPY
 * baseline, latency again, and an article with ten thousand events against a fresh one.
 */
export async function storeBenchmarks(ctx: BenchContext, selection: StoreSelection, options: { eventStore?: string; label?: string } = {}): Promise<void> {
  const label = options.label ?? 'store';
  const eventStore = options.eventStore;
  const total = ctx.size(1_000_000, 20_000);
  const longStream = ctx.size(10_000, 1_000);
  const commands = ctx.size(1_000, 150);
  const sourceCount = 100;
  const smallArticles = 9;
  const bulkArticles = Math.round((total - sourceCount - smallArticles * 100) / 100);
  const cluster = await openCluster(ctx.dataDir(label.replace(/\W+/g, '-')), { eventStore, pgStatStatements: ctx.profile });
  const store = cluster.runtime.eventStore;
  let smallCluster: Cluster | null = null;
  const details: Record<string, unknown> = { eventStore: eventStore ? 'eventstoredb' : 'postgres' };
  try {
    const clock = new Clock();
    const sources = await loadSources(store, sourceCount, clock);
    await loadArticles(store, sources, clock, { articles: smallArticles, eventsPerArticle: 100 });

    // The small store for the growth comparison: the same sources and articles in a cluster of its own,
    // which stays small while this one grows; both are measured side by side further down.
    if (selection.growth) {
      // Growth is measured on the embedded Postgres log only (an EventStoreDB would be shared by both).
      smallCluster = await openCluster(ctx.dataDir(`${label.replace(/\W+/g, '-')}-small`));
      const smallClock = new Clock();
      const smallSources = await loadSources(smallCluster.runtime.eventStore, sourceCount, smallClock);
      await loadArticles(smallCluster.runtime.eventStore, smallSources, smallClock, { articles: smallArticles, eventsPerArticle: 100 });
    }

    const bulk = bulkArticles * 100;
    ctx.log(`${label}: loading ${bulk} events through the port`);
    const loadStarted = performance.now();
    let lastLog = 0;
    await loadArticles(store, sources, clock, {
      articles: bulkArticles,
      eventsPerArticle: 100,
      onProgress: (n) => {
        if (performance.now() - lastLog > 30_000) (lastLog = performance.now()), ctx.log(`${label}: ${n} events loaded`);
      },
    });
    const loadMs = performance.now() - loadStarted;
    details.load = { events: bulk, ms: round(loadMs), eventsPerSecond: round((bulk * 1000) / loadMs) };

    // The live tables catch up first (a server's projection runner), so that the rebuild below is the
    // admin action on a running system rather than a rebuild racing a live catch-up for the same rows.
    ctx.log(`${label}: live projections catching up`);
    const { result: latencies, catchUpMs } = await withServer(ctx, cluster, eventStore, async (newsroom) => {
      if (!selection.growth || !smallCluster) return null;
      ctx.log(`${label}: command latency with ${sourceCount + smallArticles * 100} and with about ${total} events, side by side`);
      const { small, large } = await withServer(ctx, smallCluster, undefined, (smallNewsroom) => measureInterleaved(smallNewsroom, newsroom, commands)).then((r) => r.result);
      const fresh: ArticleRef[] = [];
      await newsroom.draft(fresh);
      const onFresh = await commandLatencies(newsroom, fresh, ctx.size(200, 30));
      return { small, large, onFresh };
    }, (line) => ctx.log(`${label}: ${line}`));
    details.liveCatchUp = { events: bulk, ms: round(catchUpMs), eventsPerSecond: round((bulk * 1000) / catchUpMs) };

    ctx.log(`${label}: rebuilding every projection in a separate process`);
    await resetStatements(cluster);
    const rebuild = await runRebuild(cluster, { eventStore, nodeArgs: ctx.nodeArgs(`${label}-rebuild`) });
    const rebuildRate = (rebuild.events * 1000) / rebuild.rebuildMs;
    details.rebuild = { ...rebuild, eventsPerSecond: round(rebuildRate), topStatements: await topStatements(cluster) };
    const bench = (name: string) => (label === 'store' ? name : `${label} ${name}`);

    if (selection.rebuild) {
      const copy = await copyBaseline(cluster);
      const copyRate = (copy.rows * 1000) / copy.ms;
      const r = ratio(rebuildRate, copyRate);
      const met = rebuildRate >= 50_000 && r >= 0.25 && rebuild.peakRssMiB < 300;
      ctx.report.add({
        bench: bench('rebuild'),
        case: `${rebuild.events.toLocaleString('en-US')} events, ${PROJECTIONS.length} projections`,
        rate: perSecond(rebuildRate, 'ev'),
        baseline: perSecond(copyRate, 'row'),
        ratio: r,
        target: '>= 50k ev/s, ratio >= 0.25, RSS < 300 MiB',
        met,
      });
      ctx.report.add({ bench: bench('rebuild'), case: `peak RSS ${Math.round(rebuild.peakRssMiB)} MiB, wall ${round(rebuild.wallMs / 1000, 1)} s` });
      details.copy = { ...copy, rowsPerSecond: round(copyRate) };
    }

    // Last, so that neither the catch-up nor the rebuild above carries it: one article with a long history.
    let onLong: LatencySummary | undefined;
    let long: ArticleScript | undefined;
    if (selection.growth) {
      ctx.log(`${label}: an article with ${longStream} events`);
      [long] = await loadArticles(store, sources, clock, { articles: 1, eventsPerArticle: longStream, chunk: 500, keep: true });
      const longRef: ArticleRef = { id: long.id, sentences: long.sentences, quotes: [] };
      // Commands need no projection: the runner may still be projecting the long article meanwhile.
      const server = await startServer(cluster.dataDir, { eventStore, nodeArgs: ctx.nodeArgs('long-stream-server') });
      const http = new HttpClient(server.url, 4);
      try {
        onLong = await commandLatencies(new Newsroom(http, 13), [longRef], ctx.size(200, 30), ctx.size(60_000, 10_000));
      } finally {
        http.close();
        await server.stop();
      }
    }

    if (latencies && onLong && long) {
      const { small, large, onFresh } = latencies;
      const growth = ratio(large.p50, small.p50);
      ctx.report.add({ bench: bench('growth'), case: `${(sourceCount + smallArticles * 100).toLocaleString('en-US')} events in store`, ...latency(small) });
      ctx.report.add({ bench: bench('growth'), case: `${rebuild.events.toLocaleString('en-US')} events in store`, ...latency(large), ratio: growth, target: 'p50 ratio < 1.2', met: growth < 1.2 });
      ctx.report.add({ bench: bench('growth'), case: 'fresh article', ...latency(onFresh) });
      const longRatio = ratio(onLong.p50, onFresh.p50);
      ctx.report.add({ bench: bench('growth'), case: `article with ${longStream.toLocaleString('en-US')} events`, ...latency(onLong), ratio: longRatio, target: 'report; snapshots past 5x', met: longRatio <= 5 });
      details.growth = { small, large, ratio: round(growth, 3), fresh: onFresh, long: onLong, longRatio: round(longRatio, 3), longStream: await loadAndFold(cluster, long) };
    }
  } finally {
    await smallCluster?.close();
    await cluster.close();
    ctx.report.detail(label, details);
  }
}

/** Where a command on a long stream spends its time, measured in this process: reading the stream, folding it. */
async function loadAndFold(cluster: Cluster, script: ArticleScript): Promise<Record<string, number>> {
  const started = performance.now();
  const events = await cluster.runtime.eventStore.readStream(script.writer.stream);
  const read = performance.now();
  fold(articleDecider, events);
  const folded = performance.now();
  return { events: events.length, readMs: round(read - started), foldMs: round(folded - read), jsonBytes: JSON.stringify(events).length };
}

/**
 * The COPY baseline: as many audit-trail rows as the rebuild wrote (the audit projection's own rows,
 * exported to a file in the cluster's directory first), loaded by one COPY into an unindexed table.
 */
async function copyBaseline(cluster: Cluster): Promise<{ rows: number; ms: number }> {
  // A client of its own: the runtime's pool has a statement timeout.
  const client = new Client({ connectionString: cluster.ownerUrl });
  await client.connect();
  try {
    const audit = await auditTable(cluster);
    const { rows } = await client.query<{ dir: string }>(`SELECT current_setting('data_directory') AS dir`);
    const file = `${rows[0].dir}/bench-audit.copy`.replace(/'/g, "''");
    await client.query(`COPY (SELECT * FROM ${audit}) TO '${file}'`);
    await client.query(`DROP TABLE IF EXISTS bench_copy_audit; CREATE TABLE bench_copy_audit (LIKE ${audit})`);
    const started = performance.now();
    const result = await client.query(`COPY bench_copy_audit FROM '${file}'`);
    const ms = performance.now() - started;
    await client.query('DROP TABLE bench_copy_audit');
    return { rows: result.rowCount ?? 0, ms };
  } finally {
    await client.end();
  }
}
