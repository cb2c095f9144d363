/** What one request did: its kind (for per-kind figures), whether it succeeded, how long it took. */
export interface Outcome {
  kind: string;
  ok: boolean;
  ms: number;
  error?: string;
}

export type Operation = () => Promise<Outcome>;

export interface LoadResult {
  elapsedMs: number;
  /** Every request's latency by kind, failed ones included: a fast failure must not flatter the percentiles, nor a slow one vanish from them. */
  latencies: Map<string, number[]>;
  /** Requests that succeeded, by kind: what throughput counts. */
  succeeded: Map<string, number>;
  failures: number;
  /** A few failure messages, to tell a broken benchmark from a slow one. */
  failureSamples: string[];
}

class Collector {
  readonly latencies = new Map<string, number[]>();
  readonly succeeded = new Map<string, number>();
  failures = 0;
  readonly failureSamples: string[] = [];

  record(outcome: Outcome): void {
    let list = this.latencies.get(outcome.kind);
    if (!list) this.latencies.set(outcome.kind, (list = []));
    list.push(outcome.ms);
    if (outcome.ok) {
      this.succeeded.set(outcome.kind, (this.succeeded.get(outcome.kind) ?? 0) + 1);
      return;
    }
    this.failures++;
    if (this.failureSamples.length < 5) this.failureSamples.push(`${outcome.kind}: ${outcome.error ?? 'failed'}`);
  }

  async run(op: Operation): Promise<void> {
    const started = performance.now();
    try {
      this.record(await op());
    } catch (error) {
      this.record({ kind: 'error', ok: false, ms: performance.now() - started, error: error instanceof Error ? error.message : String(error) });
    }
  }

  result(elapsedMs: number): LoadResult {
    return { elapsedMs, latencies: this.latencies, succeeded: this.succeeded, failures: this.failures, failureSamples: this.failureSamples };
  }
}

/** `concurrency` clients, each sending its next request as soon as the previous one is answered. */
export async function closedLoop(concurrency: number, durationMs: number, op: Operation): Promise<LoadResult> {
  const collector = new Collector();
  const started = performance.now();
  const deadline = started + durationMs;
  const client = async () => {
    while (performance.now() < deadline) await collector.run(op);
  };
  await Promise.all(Array.from({ length: concurrency }, client));
  return collector.result(performance.now() - started);
}

/** Requests started at a fixed rate whatever the answers do (open loop), so that a slow answer cannot slow the offered load. */
export async function openLoop(ratePerSecond: number, durationMs: number, op: Operation): Promise<LoadResult> {
  const collector = new Collector();
  const started = performance.now();
  const total = Math.floor((ratePerSecond * durationMs) / 1000);
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / ratePerSecond;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    inFlight.push(collector.run(op));
  }
  await Promise.all(inFlight);
  return collector.result(performance.now() - started);
}

/** How many requests of the kinds that `include` accepts succeeded. */
export function succeededOf(result: LoadResult, include: (kind: string) => boolean): number {
  let n = 0;
  for (const [kind, count] of result.succeeded) if (include(kind)) n += count;
  return n;
}

/** All latencies (failed requests' included) of the kinds that `include` accepts, in one list. */
export function latenciesOf(result: LoadResult, include: (kind: string) => boolean): number[] {
  const all: number[] = [];
  for (const [kind, list] of result.latencies) if (include(kind)) for (const ms of list) all.push(ms);
  return all;
}

/** Several runs' results as one: their durations added, their requests together. */
export function mergeResults(results: LoadResult[]): LoadResult {
  const merged: LoadResult = { elapsedMs: 0, latencies: new Map(), succeeded: new Map(), failures: 0, failureSamples: [] };
  for (const r of results) {
    merged.elapsedMs += r.elapsedMs;
    for (const [kind, list] of r.latencies) merged.latencies.set(kind, [...(merged.latencies.get(kind) ?? []), ...list]);
    for (const [kind, n] of r.succeeded) merged.succeeded.set(kind, (merged.succeeded.get(kind) ?? 0) + n);
    merged.failures += r.failures;
    merged.failureSamples.push(...r.failureSamples.slice(0, 5 - merged.failureSamples.length));
  }
  return merged;
}
