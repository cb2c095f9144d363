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
