import { join } from 'node:path';
import { Report } from './report';
import { OUT_DIR } from './paths';

export interface BenchContext {
  quick: boolean;
  /** CPU profiles of the children and pg_stat_statements (more overhead; for finding bottlenecks). */
  profile: boolean;
  report: Report;
  log(line: string): void;
  /** `full` in a full run, `quick` with --quick. */
  size<T>(full: T, quick: T): T;
  /** Node flags for a child process (a CPU profile per child when profiling). */
  nodeArgs(name: string): string[];
  dataDir(name: string): string;
}

export function createContext(quick: boolean, profile: boolean, report: Report): BenchContext {
  const started = Date.now();
  return {
    quick,
    profile,
    report,
    log: (line) => process.stderr.write(`[bench +${Math.round((Date.now() - started) / 1000)}s] ${line}\n`),
    size: (full, quickValue) => (quick ? quickValue : full),
    nodeArgs: (name) => (profile ? ['--cpu-prof', '--cpu-prof-dir', join(OUT_DIR, 'profiles'), '--cpu-prof-name', `${name}-${Date.now()}.cpuprofile`] : []),
    dataDir: (name) => join(OUT_DIR, `data-${name}`),
  };
}
