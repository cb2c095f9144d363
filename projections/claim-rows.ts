import { EventData, ProjectedEvent, actorOf, occurredAt, streamEntityId } from './projection';

/**
 * A claim as both the `articles` and the `claims` projections store it. Each keeps its own table
 * (so each can be rebuilt alone); what an event does to a claim row is written once, here.
 */
export interface ClaimRow {
  article_id: string;
  id: string;
  seq: string;
  text: string;
  quote_id: string | null;
  verdict: string | null;
  /** JSON text. */
  evidence: string;
  note: string | null;
  checked_by_id: string | null;
  checked_by_name: string | null;
  checked_at: string | null;
}

/** The row a `ClaimRecorded` creates: unchecked, ordered by the event's position. */
export function recordedClaim(event: ProjectedEvent<EventData<'ClaimRecorded'>>): Partial<ClaimRow> & Pick<ClaimRow, 'article_id' | 'id'> {
  const { claimId, text, quoteId } = event.data;
  return { article_id: streamEntityId(event), id: claimId, seq: event.position, text, quote_id: quoteId ?? null, evidence: '[]' };
}

/** The key and the change a `ClaimVerdictRecorded` makes: the verdict, its evidence and who checked it when. */
export function verdictOf(event: ProjectedEvent<EventData<'ClaimVerdictRecorded'>>): { key: Pick<ClaimRow, 'article_id' | 'id'>; patch: Partial<ClaimRow> } {
  const { claimId, verdict, evidence, note } = event.data;
  const by = actorOf(event);
  return {
    key: { article_id: streamEntityId(event), id: claimId },
    patch: {
      verdict,
      evidence: JSON.stringify(evidence ?? []),
      note: note ?? null,
      checked_by_id: by.id,
      checked_by_name: by.name,
      checked_at: occurredAt(event),
    },
  };
}
