import { EventEmitter } from 'node:events';
import { Client, Pool, PoolClient, QueryConfig } from 'pg';
import {
  AllSubscription,
  AppendOptions,
  AppendResult,
  EventStore,
  ExpectedRevision,
  NewEvent,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  SubscribeToAllOptions,
  WrongExpectedVersionError,
} from './event-store';
import { PostgresAllSubscription } from './postgres-all-subscription';
import { mapPgError } from './postgres-errors';
import { connectionName, PG_TIMEOUTS } from './postgres-timeouts';

/**
 * Global positions are `(transaction id << 16) + index within the append`, so a position's order is
 * its transaction's order. A reader only reads below the oldest transaction still in flight
 * (`pg_snapshot_xmin`), so an event committed late by a slower transaction can never land behind a
 * position a subscriber has already passed: the "out-of-order commit" gap cannot happen.
 * One append holds at most 65,536 events; a bigint position leaves room for 2^47 transactions.
 */
const INDEX_BITS = 16;
const MAX_EVENTS_PER_APPEND = 1 << INDEX_BITS;
export const EVENTS_CHANNEL = 'copydesk_events';
/** A NOTIFY is a wake-up: an append's answer waits this long for it at most. */
const NOTIFY_TIMEOUT_MS = 2000;
/** The LISTEN connection checks its server this often; one that does not answer is replaced. */
const LISTENER_HEARTBEAT_MS = 10_000;

export const EVENT_LOG_SCHEMA = `
CREATE TABLE IF NOT EXISTS event_streams (
  stream_id text PRIMARY KEY,
  revision  bigint NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
  position  bigint PRIMARY KEY,
  stream_id text NOT NULL,
  revision  bigint NOT NULL,
  id        uuid NOT NULL UNIQUE,
  type      text NOT NULL,
  data      jsonb NOT NULL,
  metadata  jsonb NOT NULL,
  created   timestamptz NOT NULL DEFAULT now(),
  UNIQUE (stream_id, revision)
);
`;

/** The highest position a reader may see now: everything below the oldest in-flight transaction. */
const VISIBLE_LIMIT = `(pg_snapshot_xmin(pg_current_snapshot())::text::bigint << ${INDEX_BITS})`;

const COLUMNS = 'position, stream_id, revision, id, type, data, metadata, created';
/** Event ids are stored as uuid: anything else names no event (and must not reach the cast). */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface EventRow {
  position: string;
  stream_id: string;
  revision: string;
  id: string;
  type: string;
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
  created: Date;
}

function toRecorded(row: EventRow): RecordedEvent {
  return {
    id: row.id,
    streamId: row.stream_id,
    type: row.type,
    data: row.data,
    metadata: row.metadata,
    revision: Number(row.revision),
    position: String(row.position),
    created: row.created,
  };
}

/** The statement that moves the stream's revision, by expected-revision kind; $1 stream, $2 count, $7 expected. */
function streamUpdate(expected: ExpectedRevision, checkLastEventId: boolean): string {
  if (expected === 'no_stream')
    return `INSERT INTO event_streams (stream_id, revision) VALUES ($1, $2::bigint - 1) ON CONFLICT DO NOTHING RETURNING revision`;
  if (expected === 'any')
    return `INSERT INTO event_streams AS s (stream_id, revision) VALUES ($1, $2::bigint - 1)
            ON CONFLICT (stream_id) DO UPDATE SET revision = s.revision + $2 RETURNING revision`;
  if (expected === 'stream_exists')
    return `UPDATE event_streams SET revision = revision + $2 WHERE stream_id = $1 RETURNING revision`;
  if (checkLastEventId)
    return `UPDATE event_streams SET revision = revision + $2 WHERE stream_id = $1 AND revision = $7
              AND EXISTS (SELECT 1 FROM events WHERE id = $8 AND stream_id = $1 AND revision = $7) RETURNING revision`;
  return `UPDATE event_streams SET revision = revision + $2 WHERE stream_id = $1 AND revision = $7 RETURNING revision`;
}

/**
 * The event log in PostgreSQL, for the embedded default and for a single-database deployment.
 * Each append is one statement (one round trip, one commit), serialised per stream by the row lock
 * on `event_streams`; appends to different streams commit concurrently. The statements run on every
 * command are named, so that each connection parses and plans them once.
 */
export class PostgresEventStore implements EventStore {
  readonly kind = 'postgres' as const;
  private readonly appended = new EventEmitter();
  private listener: Client | null = null;
  private listening: Promise<void> | null = null;
  private closed = false;
  private latestNotified = 0n;
  private toAnnounce = 0n;
  private announced = 0n;
  private announcing: Promise<boolean> | null = null;

  constructor(
    private readonly pool: Pool,
    private readonly connectionString: string,
  ) {
    this.appended.setMaxListeners(0);
  }

  static async migrate(client: Pool | PoolClient): Promise<void> {
    await client.query(EVENT_LOG_SCHEMA);
  }

  async appendToStream(stream: string, events: NewEvent[], options: AppendOptions): Promise<AppendResult> {
    if (events.length === 0) throw new Error('appendToStream needs at least one event');
    if (events.length > MAX_EVENTS_PER_APPEND) throw new Error(`at most ${MAX_EVENTS_PER_APPEND} events per append`);
    const expected = options.expectedRevision;
    const n = events.length;
    const checkLastEventId = typeof expected === 'number' && options.expectedLastEventId !== undefined;
    const sql = `
      WITH s AS (${streamUpdate(expected, checkLastEventId)}),
      ins AS (
        INSERT INTO events (position, stream_id, revision, id, type, data, metadata)
        SELECT (pg_current_xact_id()::text::bigint << ${INDEX_BITS}) + e.ord - 1, $1, s.revision - $2 + e.ord, e.id, e.type, e.data, e.metadata
        FROM s, unnest($3::uuid[], $4::text[], $5::jsonb[], $6::jsonb[]) WITH ORDINALITY AS e(id, type, data, metadata, ord)
        RETURNING position, revision
      )
      SELECT max(revision) AS revision, max(position) AS position FROM ins`;
    const params: unknown[] = [
      stream,
      n,
      events.map((e) => e.id),
      events.map((e) => e.type),
      events.map((e) => JSON.stringify(e.data)),
      events.map((e) => JSON.stringify(e.metadata)),
    ];
    if (typeof expected === 'number') params.push(expected);
    if (checkLastEventId) params.push(options.expectedLastEventId);
    const name = `copydesk_append_${typeof expected === 'number' ? (checkLastEventId ? 'at_head' : 'at') : expected}`;
    let result;
    try {
      result = await this.pool.query<{ revision: string | null; position: string | null }>({ name, text: sql, values: params });
    } catch (error) {
      if ((error as { code?: string }).code === '23505') {
        const replay = await this.idempotentResult(stream, events, expected);
        if (replay) return replay;
        throw new WrongExpectedVersionError(stream, expected, await this.currentRevision(stream));
      }
      mapPgError(error, 'eventStore');
    }
    const row = result.rows[0];
    if (row.revision === null || row.position === null) {
      const replay = await this.idempotentResult(stream, events, expected);
      if (replay) return replay;
      throw new WrongExpectedVersionError(stream, expected, await this.currentRevision(stream));
    }
    await this.announce(BigInt(row.position));
    return { nextExpectedRevision: Number(row.revision), position: String(row.position) };
  }

  /**
   * Wakes subscriptions after an append has committed: this process's at once, other processes'
   * by a NOTIFY sent after the fact. Not in the append's own transaction: PostgreSQL serialises
   * notifying transactions on one lock held until their commit is flushed, which would cost every
   * append a whole WAL flush of its own (no group commit) — the append rate would be one per fsync.
   * The NOTIFY's transaction commits without waiting for the disk (it is a wake-up, not a record),
   * so it holds that lock only for a moment.
   *
   * One NOTIFY is in flight per store at a time, carrying the highest position appended so far;
   * appends meanwhile are covered by the next one. The append is answered once a NOTIFY covering it
   * has committed. That costs a round trip, and buys this: a NOTIFY takes a transaction id, and
   * `$all` is read below the oldest transaction in flight — were it still in flight when the
   * caller reads `$all` after its next append, that append would not be visible yet.
   */
  private async announce(position: bigint): Promise<void> {
    if (position > this.latestNotified) this.latestNotified = position;
    this.appended.emit('appended');
    if (position > this.toAnnounce) this.toAnnounce = position;
    // The NOTIFY in flight may have been sent before this append: then the next one covers it.
    // One that failed is not tried again here: the append stands, and its answer is not held up
    // by a server that stopped answering (others fall back to their poll).
    for (let round = 0; round < 2 && this.announced < position && !this.closed; round++) {
      this.announcing ??= this.announceAll().finally(() => (this.announcing = null));
      if (!(await this.announcing)) return;
    }
  }

  /** False when a NOTIFY could not be sent; the next append announces again. */
  private async announceAll(): Promise<boolean> {
    while (this.toAnnounce > this.announced && !this.closed) {
      const next = this.toAnnounce;
      const client = await this.pool.connect().catch(() => null);
      if (!client) return false;
      const ignore = () => undefined;
      client.on('error', ignore); // surfaces as the query's rejection instead of crashing the process
      try {
        // A literal, not a parameter, so that the statements go as one simple query; it is a bigint.
        const text = `BEGIN; SET LOCAL synchronous_commit = off; SELECT pg_notify('${EVENTS_CHANNEL}', '${next.toString()}'); COMMIT`;
        await client.query({ text, query_timeout: NOTIFY_TIMEOUT_MS } as QueryConfig);
        client.off('error', ignore);
        client.release();
      } catch (error) {
        // Never back into the pool inside a failed transaction.
        client.off('error', ignore);
        client.release(error as Error);
        return false;
      }
      this.announced = next;
    }
    return true;
  }

  /**
   * EventStoreDB's idempotency: when every event id is already stored, consecutively in this stream,
   * at the place the expected revision names, the append succeeds again without writing anything.
   */
  private async idempotentResult(stream: string, events: NewEvent[], expected: ExpectedRevision): Promise<AppendResult | null> {
    const ids = events.map((e) => e.id);
    const { rows } = await this.pool
      .query<{ id: string; stream_id: string; revision: string; position: string }>(
        'SELECT id, stream_id, revision, position FROM events WHERE id = ANY($1::uuid[]) ORDER BY revision',
        [ids],
      )
      .catch((error) => mapPgError(error, 'eventStore'));
    if (rows.length !== ids.length) return null;
    const first = Number(rows[0].revision);
    const consistent = rows.every((row, i) => row.stream_id === stream && row.id === ids[i] && Number(row.revision) === first + i);
    if (!consistent) return null;
    const placeMatches =
      expected === 'any' || expected === 'stream_exists' || (expected === 'no_stream' ? first === 0 : first === expected + 1);
    if (!placeMatches) return null;
    const last = rows[rows.length - 1];
    return { nextExpectedRevision: Number(last.revision), position: String(last.position) };
  }

  private async currentRevision(stream: string): Promise<number | 'no_stream'> {
    const { rows } = await this.pool
      .query<{ revision: string }>('SELECT revision FROM event_streams WHERE stream_id = $1', [stream])
      .catch((error) => mapPgError(error, 'eventStore'));
    return rows.length ? Number(rows[0].revision) : 'no_stream';
  }

  async readStream(stream: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    const from = options.fromRevision ?? 0;
    const to = options.toRevision ?? Number.MAX_SAFE_INTEGER;
    if (to < from) return [];
    const { rows } = await this.pool
      .query<EventRow>({
        name: 'copydesk_read_stream',
        text: `SELECT ${COLUMNS} FROM events WHERE stream_id = $1 AND revision BETWEEN $2 AND $3 ORDER BY revision`,
        values: [stream, from, to],
      })
      .catch((error) => mapPgError(error, 'eventStore'));
    return rows.map(toRecorded);
  }

  /** One probe of the unique index on `id`. */
  async findEvent(stream: string, eventId: string): Promise<RecordedEvent | null> {
    if (!UUID.test(eventId)) return null;
    const { rows } = await this.pool
      .query<EventRow>(`SELECT ${COLUMNS} FROM events WHERE id = $1 AND stream_id = $2`, [eventId, stream])
      .catch((error) => mapPgError(error, 'eventStore'));
    return rows.length ? toRecorded(rows[0]) : null;
  }

  /**
   * The page is chosen on the primary key alone (an ordered index scan that stops after `maxCount`
   * rows, whatever the planner guesses of the visibility limit), then cut at that limit: positions
   * are ordered, so what stays is a prefix of the page.
   */
  async readAll(options: ReadAllOptions): Promise<RecordedEvent[]> {
    const { rows } = await this.pool
      .query<EventRow>({
        name: 'copydesk_read_all',
        text: `SELECT ${COLUMNS} FROM (SELECT ${COLUMNS} FROM events WHERE position > $1 ORDER BY position LIMIT $2) page
               WHERE position < ${VISIBLE_LIMIT} ORDER BY position`,
        values: [options.fromPosition ?? '-1', options.maxCount],
      })
      .catch((error) => mapPgError(error, 'eventStore'));
    return rows.map(toRecorded);
  }

  async headPosition(): Promise<string | null> {
    const { rows } = await this.pool
      .query<{ position: string | null }>(`SELECT max(position) AS position FROM events WHERE position < ${VISIBLE_LIMIT}`)
      .catch((error) => mapPgError(error, 'eventStore'));
    return rows[0].position === null ? null : String(rows[0].position);
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1').catch((error) => mapPgError(error, 'eventStore'));
  }

  subscribeToAll(options: SubscribeToAllOptions = {}): AllSubscription {
    void this.ensureListening();
    return new PostgresAllSubscription(this, this.appended, () => this.latestNotified, options);
  }

  /** One LISTEN connection per store wakes every subscription; it reconnects on its own. */
  private ensureListening(): Promise<void> {
    if (this.listening || this.closed) return this.listening ?? Promise.resolve();
    this.listening = (async () => {
      let delay = 100;
      while (!this.closed) {
        const client = new Client({ connectionString: this.connectionString, application_name: connectionName('event log listener'), ...PG_TIMEOUTS });
        let heartbeat: NodeJS.Timeout | undefined;
        try {
          await client.connect();
          client.on('notification', (message) => {
            const position = BigInt(message.payload ?? '0');
            if (position > this.latestNotified) this.latestNotified = position;
            this.appended.emit('appended');
          });
          await client.query(`LISTEN ${EVENTS_CHANNEL}`);
          this.listener = client;
          delay = 100;
          // Wake subscriptions: anything appended while we were not listening is read now.
          this.appended.emit('appended');
          await new Promise<void>((resolve) => {
            client.once('error', () => resolve());
            client.once('end', () => resolve());
            // A server that stopped answering sends no error and no end: ask it now and then.
            heartbeat = setInterval(() => void client.query('SELECT 1').catch(() => resolve()), LISTENER_HEARTBEAT_MS);
          });
        } catch {
          // reconnect below
        }
        clearInterval(heartbeat);
        this.listener = null;
        await client.end().catch(() => undefined);
        if (this.closed) break;
        await sleep(delay);
        delay = Math.min(delay * 2, 2000);
      }
    })();
    return this.listening;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.appended.emit('appended');
    await this.listener?.end().catch(() => undefined);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
