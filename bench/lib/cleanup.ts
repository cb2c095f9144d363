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
      void stopEverything().then(() => process.exit(code));
    });
}
