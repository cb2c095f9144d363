import { EventStore, RecordedEvent } from '../../event-store/event-store';
import { ARTICLE_EVENT_TYPES } from '../../newsroom/article/article.decider';
import { SOURCE_EVENT_TYPES, SourceKind } from '../../newsroom/source/source.decider';
import { foldWithSources } from '../distribution-reader';
import { DistributionLinks, Ninjs, toNinjs } from '../ninjs';

/** The event types a subscription may name (the newsroom's: articles and sources). */
export const DELIVERABLE_EVENT_TYPES: readonly string[] = [...ARTICLE_EVENT_TYPES, ...SOURCE_EVENT_TYPES];

/** The article's events whose payload carries the article as ninjs, when it is (or was, retracted) published. */
export const EVENTS_WITH_ARTICLE = new Set(['ArticlePublished', 'CorrectionIssued', 'ArticleRetracted', 'HeadlineChanged', 'BodyRevised']);

/** Newsroom events only: the log's other streams (webhook subscriptions themselves) are not delivered. */
export function isNewsroomEvent(event: Pick<RecordedEvent, 'streamId' | 'type'>): boolean {
  return (event.streamId.startsWith('article-') || event.streamId.startsWith('source-')) && DELIVERABLE_EVENT_TYPES.includes(event.type);
}

export function wanted(events: readonly string[], event: Pick<RecordedEvent, 'streamId' | 'type'>): boolean {
  return isNewsroomEvent(event) && (events.includes('*') || events.includes(event.type));
}

export interface WebhookPayload {
  type: string;
  timestamp: string;
  data: {
    eventId: string;
    streamId: string;
    revision: number;
    position: string;
    occurredAt: string;
    actor: { id: string | null; name: string | null };
    reason: string | null;
    event: Record<string, unknown>;
    article?: Ninjs;
  };
}

/**
 * API.md's payload for one event: the event as the log holds it, with its provenance, and for the
 * listed types of a published article, the article at that event's revision as ninjs. Built from the
 * log only, so every attempt (and a redelivery after a restart) sends the same body.
 */
export async function buildPayload(
  store: EventStore,
  event: RecordedEvent,
  links: DistributionLinks,
  cache?: { kinds: Map<string, SourceKind>; streams: StreamCache },
): Promise<WebhookPayload> {
  const metadata = event.metadata as { actor?: { id?: unknown; name?: unknown }; occurredAt?: unknown; reason?: unknown };
  const occurredAt = typeof metadata.occurredAt === 'string' ? metadata.occurredAt : event.created.toISOString();
  const payload: WebhookPayload = {
    type: event.type,
    timestamp: occurredAt,
    data: {
      eventId: event.id,
      streamId: event.streamId,
      revision: event.revision,
      position: event.position,
      occurredAt,
      actor: { id: typeof metadata.actor?.id === 'string' ? metadata.actor.id : null, name: typeof metadata.actor?.name === 'string' ? metadata.actor.name : null },
      reason: typeof metadata.reason === 'string' ? metadata.reason : null,
      event: event.data,
    },
  };
  if (EVENTS_WITH_ARTICLE.has(event.type) && event.streamId.startsWith('article-')) {
    const events = cache?.streams.upTo(event) ?? (await store.readStream(event.streamId, { toRevision: event.revision }));
    if (cache && events.length) cache.streams.fill(event.streamId, events);
    const { article, kinds: sourceKinds } = await foldWithSources(store, events, cache?.kinds);
    if (article.state.status === 'published' || article.state.status === 'retracted') payload.data.article = toNinjs(article, sourceKinds, links);
  }
  return payload;
}

/**
 * The article streams a delivery loop has seen, kept as it reads the log (every event passes by in
 * order), so that the payload of the n-th event of a stream does not read the stream's n first events
 * again. A stream is only extended by its next revision; one with a gap is read again. At most
 * `capacity` streams, the least recently used go first.
 */
export class StreamCache {
  private readonly streams = new Map<string, RecordedEvent[]>();
  constructor(private readonly capacity = 200) {}

  /** Called for every event read from the log, wanted or not. */
  observe(event: RecordedEvent): void {
    const events = this.streams.get(event.streamId);
    if (!events) return;
    const last = events[events.length - 1];
    if (event.revision === last.revision + 1) events.push(event);
    else if (event.revision > last.revision) this.streams.delete(event.streamId);
  }

  /** The stream's events through `event`'s revision, when the cache has them all; else undefined. */
  upTo(event: RecordedEvent): RecordedEvent[] | undefined {
    const events = this.streams.get(event.streamId);
    if (!events || events[0].revision !== 0 || events[events.length - 1].revision < event.revision) return undefined;
    this.streams.delete(event.streamId);
    this.streams.set(event.streamId, events);
    return events.filter((e) => e.revision <= event.revision);
  }

  fill(streamId: string, events: RecordedEvent[]): void {
    if (events[0].revision !== 0) return;
    const cached = this.streams.get(streamId);
    if (cached && cached[cached.length - 1].revision >= events[events.length - 1].revision) return;
    this.streams.delete(streamId);
    this.streams.set(streamId, [...events]);
    while (this.streams.size > this.capacity) this.streams.delete(this.streams.keys().next().value!);
  }
}
