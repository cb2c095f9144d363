import { RecordedEvent } from '../event-store/event-store';
import { slugify } from './text';

export interface DomainEvent {
  type: string;
  data: Record<string, unknown>;
}

type Upcaster = (data: Record<string, unknown>) => Record<string, unknown>;

/**
 * Every event type's history of shapes. `upcasters[n]` turns version n into n + 1; the current
 * version is one past the last upcaster. A type without an entry is at version 1.
 *
 * TopicTagged v1 carried only the label and left the slug to readers; v2 pins the slug in the
 * event, so a later change of the slug rule can never re-key a tag that was already made.
 */
const SCHEMAS: Record<string, { upcasters: Upcaster[] }> = {
  TopicTagged: {
    upcasters: [
      /* v0 unused */ (data) => data,
      /* v1 → v2 */ (data) => ({ slug: slugify(String(data.label ?? '')), label: data.label }),
    ],
  },
};

/** The schema version written with new events of this type. */
export function schemaVersionOf(type: string): number {
  const schema = SCHEMAS[type];
  return schema ? schema.upcasters.length : 1;
}

/**
 * The current schema version of every event type that has more than one, e.g. `TopicTagged@2`: part
 * of a stored snapshot's version, because an upcaster added or changed changes what a fold makes of
 * the same stored events.
 */
export function schemaFingerprint(): string {
  return Object.keys(SCHEMAS)
    .sort()
    .map((type) => `${type}@${schemaVersionOf(type)}`)
    .join(',');
}

/**
 * A stored event as the domain knows it now. Every read path (command handlers, projections, time
 * travel) goes through here, so older schema versions are upcast in one place. Events written
 * before versioning (no `schemaVersion`) count as version 1.
 */
export function toDomainEvent<E extends DomainEvent>(recorded: Pick<RecordedEvent, 'type' | 'data' | 'metadata'>): E {
  const schema = SCHEMAS[recorded.type];
  let data = recorded.data;
  if (schema) {
    const stored = Number(recorded.metadata.schemaVersion ?? 1);
    for (let version = Math.max(1, stored); version < schema.upcasters.length; version++) data = schema.upcasters[version](data);
  }
  return { type: recorded.type, data } as E;
}
