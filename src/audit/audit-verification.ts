import { auditProjection } from '../../projections/audit.projection';
import { EventStore } from '../event-store/event-store';
import { ChainVerification, ChainVerifier, WitnessedEvent, verifyChain } from '../newsroom/hash-chain';
import { ReadModels } from '../read-store/read-models';

/**
 * A record of which events existed, kept apart from the log: the hash chain proves what is in the log
 * was not altered, but a log whose last events were deleted (and `event_streams` rolled back) is a
 * shorter valid chain. Verification compares the log with this record to name such a loss.
 */
export interface AuditRecord {
  /** Every event of the stream that the record saw. */
  stream(streamId: string): Promise<WitnessedEvent[]>;
  /** The last event of each stream that the record saw. */
  heads(): Promise<WitnessedEvent[]>;
}

interface EntryRow {
  stream_id: string;
  revision: number;
  event_id: string;
  type: string;
  position: string;
}

const witnessed = (row: EntryRow): WitnessedEvent => ({ streamId: row.stream_id, revision: row.revision, eventId: row.event_id, type: row.type, position: row.position });

/**
 * The audit read model as that record: the projection runner writes one row per event it applies
 * (stream, revision, id, type, position) in its own transactions, separately from the appends, and
 * rows are never removed while the live tables stand. It may trail the log (rows not yet written are
 * not missing); it cannot lead it, unless the log lost events.
 */
export class AuditReadModelRecord implements AuditRecord {
  constructor(private readonly models: ReadModels) {}

  async stream(streamId: string): Promise<WitnessedEvent[]> {
    const snapshot = await this.models.snapshot(auditProjection);
    const rows = await snapshot.query<EntryRow>(
      auditProjection,
      'SELECT stream_id, revision, event_id::text, type, position::text FROM {entries} WHERE stream_id = $1 ORDER BY revision',
      [streamId],
    );
    return rows.map(witnessed);
  }

  async heads(): Promise<WitnessedEvent[]> {
    const snapshot = await this.models.snapshot(auditProjection);
    const rows = await snapshot.query<EntryRow>(
      auditProjection,
      'SELECT DISTINCT ON (stream_id) stream_id, revision, event_id::text, type, position::text FROM {entries} ORDER BY stream_id, revision DESC',
    );
    return rows.map(witnessed);
  }
}

/** One stream's chain, recomputed from the log, and compared with the record's events of that stream. */
export async function verifyStream(store: EventStore, streamId: string, record?: AuditRecord): Promise<ChainVerification> {
  const [events, seen] = await Promise.all([store.readStream(streamId), record ? record.stream(streamId) : []]);
  return verifyChain(streamId, events, seen);
}

/**
 * Every stream's chain, reading $all page by page (memory grows with the number of streams, not
 * events), and each stream's last recorded event looked up in the log. `results` has every stream's
 * outcome (with its head hash), in the order of their first events.
 */
export async function verifyAllStreams(
  store: EventStore,
  record?: AuditRecord,
  pageSize = 1000,
): Promise<{ streams: number; events: number; broken: ChainVerification[]; results: ChainVerification[] }> {
  const verifier = new ChainVerifier();
  for (const head of record ? await record.heads() : []) verifier.witness(head);
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
