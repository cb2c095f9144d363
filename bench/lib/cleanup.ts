/** What must be stopped if the run is interrupted: servers first, then the PostgreSQL clusters. */
const pending = new Set<() => Promise<void>>();

export function onInterrupt(stop: () => Promise<void>): () => void {
  pending.add(stop);
  return () => pending.delete(stop);
}

export async function stopEverything(): Promise<void> {
  for (const stop of [...pending].reverse()) await stop().catch(() => undefined);
  pending.clear();
}

/**
 * On SIGINT or SIGTERM, stops what is registered and exits as a shell reports that signal (130, 143):
 * an interrupted benchmark leaves no server or PostgreSQL cluster running behind it.
 */
export function stopOnSignals(): void {
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const)
    process.once(signal, () => {
      interrupted ??= stopEverything();
      void interrupted.then(() => process.exit(code));
    });
}

let interrupted: Promise<void> | undefined;

/**
 * A script's failure: printed, and the run stopped with exit code 1. During an interrupt the failure
 * is its effect (a statement cut off by the stopping PostgreSQL): the signal's own exit is left to come.
 */
export async function failed(error: unknown): Promise<void> {
  if (interrupted) return;
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  await stopEverything();
  process.exit(1);
}
