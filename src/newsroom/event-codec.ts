import { RecordedEvent } from '../event-store/event-store';

/** The current schema version of every event Copydesk writes. */
export const SCHEMA_VERSION = 1;

export interface DomainEvent {
  type: string;
  data: Record<string, unknown>;
}

/**
 * A stored event as the domain knows it. Every read path (command handlers, projections, time
 * travel) goes through here, so upcasting older schema versions happens in one place.
 */
export function toDomainEvent<E extends DomainEvent>(recorded: Pick<RecordedEvent, 'type' | 'data' | 'metadata'>): E {
  return { type: recorded.type, data: recorded.data } as E;
}
