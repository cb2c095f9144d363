import { RecordedEvent } from '../event-store/event-store';
import { slugify } from './text';

export interface DomainEvent {
  type: string;
  data: Record<string, unknown>;
}

type Upcaster = (data: Record<string, unknown>, metadata: Record<string, unknown>) => Record<string, unknown>;

/**
 * Content events v1 → v2: v2 names the writer in `by` (the four-eyes rule refuses them as approver).
 * A v1 event's writer is its metadata's actor, the token's identity, exactly as v2's `by` is.
 */
const withWriter: Upcaster = (data, metadata) => {
  if (typeof data.by === 'string') return data;
  const actor = metadata.actor as { id?: unknown } | undefined;
  return typeof actor?.id === 'string' ? { ...data, by: actor.id } : data;
};
const CONTENT_EVENTS = ['ArticleDrafted', 'HeadlineChanged', 'BodyRevised', 'QuoteAdded', 'SourceAttributed', 'QuoteWithdrawn', 'ClaimRecorded'];

/**
 * Every event type's history of shapes. `upcasters[n]` turns version n into n + 1; the current
 * version is one past the last upcaster. A type without an entry is at version 1.
 *
 * TopicTagged v1 carried only the label and left the slug to readers; v2 pins the slug in the
 * event, so a later change of the slug rule can never re-key a tag that was already made.
 * The article's content events v2 carry their writer (`by`), see {@link withWriter}.
 */
const SCHEMAS: Record<string, { upcasters: Upcaster[] }> = {
  ...Object.fromEntries(CONTENT_EVENTS.map((type) => [type, { upcasters: [/* v0 unused */ (data) => data, /* v1 → v2 */ withWriter] }])),
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
    for (let version = Math.max(1, stored); version < schema.upcasters.length; version++) data = schema.upcasters[version](data, recorded.metadata);
  }
  return { type: recorded.type, data } as E;
}
