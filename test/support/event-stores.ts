import { startEsdbTestServer } from './esdb-test-server';

export type StoreKind = 'postgres' | 'eventstoredb';

/** The stores the end-to-end specs run on: the Postgres log, and EventStoreDB through the wire-protocol test server. */
export const EVENT_STORES: StoreKind[] = ['postgres', 'eventstoredb'];

export interface StoreFixture {
  eventStoreConnectionString?: string;
  stop(): Promise<void>;
}

/** For `eventstoredb`: a real EventStoreDB when EVENTSTORE_CONNECTION_STRING is set, else the test server. */
export async function startEventStore(kind: StoreKind): Promise<StoreFixture> {
  if (kind === 'postgres') return { stop: async () => undefined };
  if (process.env.EVENTSTORE_CONNECTION_STRING) return { eventStoreConnectionString: process.env.EVENTSTORE_CONNECTION_STRING, stop: async () => undefined };
  const server = await startEsdbTestServer({ port: 0 });
  return { eventStoreConnectionString: server.connectionString, stop: () => server.stop() };
}
