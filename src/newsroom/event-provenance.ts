/** Who and when, as every event's metadata records them (see API.md); read the same way everywhere. */

export interface Who {
  id: string;
  name: string;
}

interface WithMetadata {
  metadata: Record<string, unknown>;
}

/** The actor the command named; empty strings when the metadata names none. */
export function actorOf(event: WithMetadata): Who {
  const actor = (event.metadata.actor ?? {}) as Partial<Who>;
  return { id: String(actor.id ?? ''), name: String(actor.name ?? '') };
}

/** The command's time, else when the store recorded the event. */
export function occurredAt(event: WithMetadata & { created: Date }): string {
  return typeof event.metadata.occurredAt === 'string' ? event.metadata.occurredAt : event.created.toISOString();
}
