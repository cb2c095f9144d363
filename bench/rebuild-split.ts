/**
 * Whether a rebuild goes faster when its projections are rebuilt by several processes side by side
 * (each reading the log for itself) instead of by one process reading it once for all: the question
 * of whether the rebuild is bound by one JavaScript thread waiting on PostgreSQL, or by the CPU of
 * the whole machine.
 *
 *   npx ts-node --transpile-only bench/rebuild-split.ts [--articles 3000] [--rounds 2]
 *
 * It compiles src/ as `npm run bench` does, writes `--articles` × 100 events (and 100 sources) with
 * the benchmark's event factory into a fresh embedded PostgreSQL, lets a runner bring the live
 * tables up to the head, and then, in turns, runs `copydesk projections rebuild` as one process for
 * all three projections, as two (audit | articles and sources) and as three, all at once, and then
 * each projection alone. Each
 * process takes the advisory locks of the projections it names, so the builds do not meet. Prints
 * the wall time (including each process's start, about a second) and PostgreSQL's CPU. Not part of
 * `npm run bench`.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { PROJECTIONS } from '../projections';
import { ProjectionRunner } from '../src/projection-runner/projection-runner';
import { compile } from './lib/build';
import { openCluster } from './lib/cluster';
import { cpuMeter } from './lib/cpu';
import { childEnv } from './lib/env';
import { Clock, loadArticles, loadSources } from './lib/event-factory';
import { OUT_DIR } from './lib/paths';
import { waitCaughtUp } from './lib/projections';
import { failed, stopOnSignals } from './lib/cleanup';
import { commandLine, count } from './lib/options';

const USAGE = 'usage: npx ts-node --transpile-only bench/rebuild-split.ts [--articles 3000] [--rounds 2]';
const QUIET = { log: () => undefined, warn: () => undefined, error: () => undefined };
const PLANS: Record<string, string[][]> = {
  'one process': [['articles', 'audit', 'sources']],
  'two (audit | articles, sources)': [['audit'], ['articles', 'sources']],
  'three (one each)': [['audit'], ['articles'], ['sources']],
  // Each alone: what one projection costs with a reader of its own. The audit trail alone (read the log, COPY a
  // row per event, build five indexes) is the least any rebuild of all three can take.
  'audit alone': [['audit']],
  'articles alone': [['articles']],
  'sources alone': [['sources']],
};

function rebuildIn(mainJs: string, dataDir: string, names: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [mainJs, 'projections', 'rebuild', ...names], { env: childEnv(dataDir), stdio: ['ignore', 'ignore', 'pipe'] });
    // Its progress bar is not wanted here; its last words are, if it fails.
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`rebuild of ${names.join(', ')} exited with ${code}: ${stderr}`))));
  });
}

async function main(): Promise<void> {
  const { values } = commandLine(USAGE, { articles: { type: 'string', default: '3000' }, rounds: { type: 'string', default: '2' } });
  const articles = count('articles', values.articles, USAGE);
  const rounds = count('rounds', values.rounds, USAGE);
  const mainJs = compile((line) => console.error(line));
  const dataDir = join(OUT_DIR, 'data-rebuild-split');
  const cluster = await openCluster(dataDir);
  try {
    const { pool, eventStore: store, databaseUrl } = cluster.runtime;
    const clock = new Clock();
    const sources = await loadSources(store, 100, clock);
    await loadArticles(store, sources, clock, { articles, eventsPerArticle: 100 });
    const events = articles * 100 + 100;
    const runner = new ProjectionRunner({ store, pool, databaseUrl, projections: PROJECTIONS, logger: QUIET });
    await runner.start();
    await waitCaughtUp(cluster);
    await runner.stop();
    console.log(`${events.toLocaleString('en-US')} events; every projection rebuilt from the first event and swapped in`);
    for (let round = 1; round <= rounds; round++) {
      for (const [plan, groups] of Object.entries(PLANS)) {
        const meter = cpuMeter(dataDir);
        const started = performance.now();
        await Promise.all(groups.map((names) => rebuildIn(mainJs, dataDir, names)));
        const ms = performance.now() - started;
        const { postgresMs } = meter.stop();
        const rate = Math.round((events * 1000) / ms).toLocaleString('en-US');
        console.log(`round ${round}  ${plan.padEnd(32)} ${(ms / 1000).toFixed(1).padStart(6)} s  ${rate.padStart(7)} events/s  PostgreSQL CPU ${(postgresMs / 1000).toFixed(1)} s`);
      }
    }
  } finally {
    await cluster.close();
  }
}

stopOnSignals();
main().catch(failed);
