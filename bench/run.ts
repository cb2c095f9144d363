/**
 * `npm run bench [-- --quick] [--profile] [--before REF] [NAME…]`: the benchmarks described in
 * bench/RESULTS.md (NAME: commands, lag, rebuild, growth, behind, esdb, metrics; all by default). `--before REF` also
 * runs commit REF's build in the commands benchmark, alternating with the work tree's, for a
 * before/after measured under the same neighbours.
 * Prints a table on stdout and writes bench/out/results-<timestamp>.json and bench/out/latest.json.
 * Missed targets are printed, never fatal; a benchmark that breaks exits 1 (so CI notices rot).
 */
import { loadavg } from 'node:os';
import { behindBenchmark } from './behind.bench';
import { commandsBenchmark } from './commands.bench';
import { lagBenchmark } from './lag.bench';
import { metricsBenchmark } from './metrics.bench';
import { failed, stopEverything, stopOnSignals } from './lib/cleanup';
import { openCluster } from './lib/cluster';
import { compile, compileRef } from './lib/build';
import { BenchContext, createContext } from './lib/context';
import { describeMachine } from './lib/machine';
import { commandLine, refuse } from './lib/options';
import { OUT_DIR } from './lib/paths';
import { Report } from './lib/report';
import { storeBenchmarks } from './store.bench';

const NAMES = ['commands', 'lag', 'rebuild', 'growth', 'behind', 'esdb', 'metrics'] as const;
const USAGE = `usage: npm run bench [-- [--quick] [--profile] [--before REF] [NAME…]]\nNAME: ${NAMES.join(', ')} (all by default); see bench/RESULTS.md`;
type Name = (typeof NAMES)[number];

async function esdb(ctx: BenchContext): Promise<void> {
  const eventStore = process.env.EVENTSTORE_CONNECTION_STRING?.trim();
  if (!eventStore) {
    ctx.report.add({ bench: 'esdb', case: 'skipped: EVENTSTORE_CONNECTION_STRING is not set' });
    ctx.report.note('esdb: skipped, EVENTSTORE_CONNECTION_STRING is not set');
    return;
  }
  await commandsBenchmark(ctx, { eventStore, label: 'esdb commands' });
  await storeBenchmarks(ctx, { rebuild: true, growth: false }, { eventStore, label: 'esdb' });
}

async function main(): Promise<number> {
  const { values, positionals } = commandLine(
    USAGE,
    { quick: { type: 'boolean', default: false }, profile: { type: 'boolean', default: false }, before: { type: 'string' } },
    true,
  );
  const unknown = positionals.filter((n) => !(NAMES as readonly string[]).includes(n));
  if (unknown.length) refuse(`unknown benchmark ${unknown.join(', ')}; the benchmarks are ${NAMES.join(', ')}`, USAGE);
  const selected = new Set<Name>(positionals.length ? (positionals as Name[]) : NAMES);
  const report = new Report();
  const ctx = createContext(values.quick!, values.profile!, report);
  const started = new Date();

  ctx.log('compiling src/ into bench/out/build');
  compile(ctx.log);
  const before = values.before;
  const beforeMain = before ? compileRef(before, ctx.log) : undefined;
  const probe = await openCluster(ctx.dataDir('machine'));
  const machine = await describeMachine(probe.runtime.pool);
  await probe.close();

  const runs: [Name, () => Promise<void>][] = [
    ['commands', () => commandsBenchmark(ctx, before && beforeMain ? { before: { ref: before, mainJs: beforeMain } } : {})],
    ['lag', () => lagBenchmark(ctx)],
    ['rebuild', () => storeBenchmarks(ctx, { rebuild: selected.has('rebuild'), growth: selected.has('growth') })],
    ['behind', () => behindBenchmark(ctx)],
    ['esdb', () => esdb(ctx)],
    ['metrics', () => metricsBenchmark(ctx)],
  ];
  let failed = 0;
  for (const [name, run] of runs) {
    if (!selected.has(name) && !(name === 'rebuild' && selected.has('growth'))) continue;
    try {
      await run();
    } catch (error) {
      failed++;
      ctx.log(`${name} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      report.note(`${name}: FAILED: ${error instanceof Error ? error.message : String(error)}`);
      await stopEverything();
    }
  }

  const loadAtEnd = loadavg().map((n) => Number(n.toFixed(2)));
  process.stdout.write(
    `\nCopydesk benchmarks (${ctx.quick ? 'quick' : 'full'}), ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}, ${machine.postgres.split(' on ')[0]}; ` +
      `load average ${machine.loadAverage[0]} at the start, ${loadAtEnd[0]} at the end\n\n`,
  );
  process.stdout.write(`${report.table()}\n`);
  if (report.notes.length) process.stdout.write(`\n${report.notes.map((n) => `note: ${n}`).join('\n')}\n`);
  const file = report.write(OUT_DIR, {
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    mode: ctx.quick ? 'quick' : 'full',
    command: `npm run bench --${process.argv.slice(2).length ? ` ${process.argv.slice(2).join(' ')}` : ''}`,
    machine,
    loadAverageAtEnd: loadAtEnd,
  });
  process.stdout.write(`\nJSON: ${file}\n`);
  return failed ? 1 : 0;
}

stopOnSignals();

main()
  .then((code) => process.exit(code))
  .catch(failed);
