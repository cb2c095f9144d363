import { Pool } from 'pg';
import { EventStore } from './event-store';
import { PostgresEventStore } from './postgres.event-store';

/**
 * EventStoreDB when a connection string is configured, else the Postgres event log in the read
 * database. The EventStoreDB client is only loaded when it is used.
 */
export function createEventStore(options: { eventStoreConnectionString?: string; pool: Pool; databaseUrl: string }): EventStore {
  if (options.eventStoreConnectionString) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { EventStoreDbEventStore } = require('./eventstoredb.event-store') as typeof import('./eventstoredb.event-store');
    return new EventStoreDbEventStore(options.eventStoreConnectionString);
  }
  return new PostgresEventStore(options.pool, options.databaseUrl);
}
