import { EventStore } from '../event-store/event-store';
import { ChainVerification, ChainVerifier, verifyChain } from '../newsroom/hash-chain';

export async function verifyStream(store: EventStore, streamId: string): Promise<ChainVerification> {
  return verifyChain(streamId, await store.readStream(streamId));
}

/**
 * Every stream's chain, reading $all page by page: memory grows with the number of streams, not
 * events. `results` has every stream's outcome (with its head hash), in the order of their first events.
 */
export async function verifyAllStreams(
  store: EventStore,
  pageSize = 1000,
): Promise<{ streams: number; events: number; broken: ChainVerification[]; results: ChainVerification[] }> {
  const verifier = new ChainVerifier();
  let position: string | undefined;
  let events = 0;
  for (;;) {
    const page = await store.readAll({ fromPosition: position, maxCount: pageSize });
    if (page.length === 0) break;
    for (const event of page) verifier.push(event);
    events += page.length;
    position = page[page.length - 1].position;
  }
  return { streams: verifier.streams().length, events, broken: verifier.broken(), results: verifier.streams().map((s) => verifier.result(s)) };
}
