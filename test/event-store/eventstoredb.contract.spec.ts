import { EventStoreDbEventStore } from '../../src/event-store/eventstoredb.event-store';
import { startEsdbTestServer } from '../support/esdb-test-server';
import { eventStoreContract } from './event-store.contract';

eventStoreContract('EventStoreDB adapter on the EventStoreDB test server', async () => {
  const server = await startEsdbTestServer();
  const store = new EventStoreDbEventStore(server.connectionString);
  return {
    store,
    teardown: async () => {
      await store.close();
      await server.stop();
    },
  };
});

/** Against a real node (e.g. `esdb://localhost:2113?tls=false`) only when one is configured. */
const realConnectionString = process.env.EVENTSTORE_CONNECTION_STRING;
if (realConnectionString) {
  eventStoreContract('EventStoreDB adapter on a real EventStoreDB', async () => {
    const store = new EventStoreDbEventStore(realConnectionString);
    return { store, teardown: () => store.close() };
  });
}
