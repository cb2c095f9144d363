import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** One line of the results table. Rates are per second; latencies in milliseconds. */
export interface Row {
  bench: string;
  case: string;
  rate?: string;
  p50?: number;
  p99?: number;
  max?: number;
  baseline?: string;
  ratio?: number;
  target?: string;
  met?: boolean;
}

const COLUMNS: { title: string; cell: (r: Row) => string; right?: boolean }[] = [
  { title: 'benchmark', cell: (r) => r.bench },
  { title: 'case', cell: (r) => r.case },
  { title: 'rate', cell: (r) => r.rate ?? '', right: true },
  { title: 'p50 ms', cell: (r) => num(r.p50), right: true },
  { title: 'p99 ms', cell: (r) => num(r.p99), right: true },
  { title: 'max ms', cell: (r) => num(r.max), right: true },
  { title: 'baseline', cell: (r) => r.baseline ?? '', right: true },
  { title: 'ratio', cell: (r) => num(r.ratio), right: true },
  { title: 'target', cell: (r) => r.target ?? '' },
  { title: 'met', cell: (r) => (r.met === undefined ? '' : r.met ? 'yes' : 'NO') },
];

function num(n: number | undefined): string {
  if (n === undefined) return '';
  if (!Number.isFinite(n)) return '-';
  return n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2);
}

/** Collects the rows, notes and raw figures of a run; prints the table and writes the JSON. */
export class Report {
  readonly rows: Row[] = [];
  readonly notes: string[] = [];
  readonly details: Record<string, unknown> = {};

  add(row: Row): void {
    this.rows.push(row);
  }

  note(line: string): void {
    this.notes.push(line);
  }

  detail(key: string, value: unknown): void {
    this.details[key] = value;
  }

  table(): string {
    const cells = this.rows.map((r) => COLUMNS.map((c) => c.cell(r)));
    const widths = COLUMNS.map((c, i) => Math.max(c.title.length, ...cells.map((row) => row[i].length)));
    const line = (values: string[]) => values.map((v, i) => (COLUMNS[i].right ? v.padStart(widths[i]) : v.padEnd(widths[i]))).join('  ').trimEnd();
    return [line(COLUMNS.map((c) => c.title)), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
  }

  /** `results-<timestamp>.json` and `latest.json` in `dir`; returns the first path. */
  write(dir: string, header: Record<string, unknown>): string {
    mkdirSync(dir, { recursive: true });
    const json = JSON.stringify({ ...header, rows: this.rows, notes: this.notes, details: this.details }, null, 2);
    const file = join(dir, `results-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, `${json}\n`);
    writeFileSync(join(dir, 'latest.json'), `${json}\n`);
    return file;
  }
}

export const perSecond = (n: number, unit: string): string => `${Math.round(n).toLocaleString('en-US')} ${unit}/s`;
