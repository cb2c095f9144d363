import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { brotliCompress, brotliDecompress, constants } from 'node:zlib';
import { Pool } from 'pg';

const compress = promisify(brotliCompress);
const decompress = promisify(brotliDecompress);
/** Brotli at quality 4: a long article's 2 MB state becomes 260 KB (gzip -1: 415 KB) and unpacks in a few ms. */
const QUALITY = 4;

/*
 * Snapshots of a decider's state: a cache of the fold of a long stream, so that a command reads the
 * snapshot and the events after it instead of the whole stream. They are never the record: the event
 * log is. A snapshot is only used when its decider's snapshot version matches the running code's, its
 * checksum matches, and the log still holds, at its revision, the very event it was folded up to.
 */

export const DECIDER_SNAPSHOTS = Symbol('DECIDER_SNAPSHOTS');

/** A decider's state as the fold of events 0..revision of one stream, with what a command needs of the last of them. */
export interface Snapshot<S = unknown> {
  streamId: string;
  /** The decider's name (`article`, `source`). */
  decider: string;
  /** The decider's snapshot version and the event schema versions (see `snapshotVersionOf`). */
  version: string;
  revision: number;
  lastEventId: string;
  /** The last event's $all position (answers a command that changes nothing). */
  position: string;
  /** The last event's hash (the next event's `previousHash`); null for events written before the chain. */
  lastHash: string | null;
  state: S;
}

export interface SnapshotStore {
  /** The stream's snapshot for this decider and version; null when there is none, it is of another version, or it fails its checksum. */
  load(streamId: string, decider: string, version: string): Promise<Snapshot | null>;
  /** Stores the snapshot unless one at a later revision of the same version is already there. */
  save(snapshot: Snapshot): Promise<void>;
  /** Removes a snapshot the event log contradicts, so that a good one can take its place. */
  discard(snapshot: Pick<Snapshot, 'streamId' | 'revision' | 'lastEventId'>): Promise<void>;
}

export const DECIDER_SNAPSHOTS_SCHEMA = `
CREATE TABLE IF NOT EXISTS decider_snapshots (
  stream_id     text PRIMARY KEY,
  decider       text NOT NULL,
  version       text NOT NULL,
  revision      bigint NOT NULL,
  last_event_id text NOT NULL,
  position      text NOT NULL,
  last_hash     text,
  -- The state's JSON, compressed here (Brotli) rather than by TOAST: a long article's state is
  -- megabytes of JSON, and reading it back compressed costs a fraction of the text's transfer.
  state         bytea NOT NULL,
  checksum      text NOT NULL,
  taken_at      timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE decider_snapshots ALTER COLUMN state SET STORAGE EXTERNAL`;

/** SHA-256 over every field that decides what a snapshot means, and the stored (compressed) state. */
function checksum(s: Omit<Snapshot, 'state'>, state: Buffer): string {
  return createHash('sha256')
    .update(JSON.stringify([s.streamId, s.decider, s.version, s.revision, s.lastEventId, s.position, s.lastHash]))
    .update('\n')
    .update(state)
    .digest('hex');
}

interface SnapshotRow {
  stream_id: string;
  decider: string;
  version: string;
  revision: string;
  last_event_id: string;
  position: string;
  last_hash: string | null;
  state: Buffer;
  checksum: string;
}

/** Snapshots in the read store's PostgreSQL (which is PostgreSQL whichever store holds the events). */
export class PostgresSnapshotStore implements SnapshotStore {
  constructor(private readonly pool: Pool) {}

  async load(streamId: string, decider: string, version: string): Promise<Snapshot | null> {
    const { rows } = await this.pool.query<SnapshotRow>(
      `SELECT stream_id, decider, version, revision, last_event_id, position, last_hash, state, checksum
       FROM decider_snapshots WHERE stream_id = $1 AND decider = $2 AND version = $3`,
      [streamId, decider, version],
    );
    const row = rows[0];
    if (!row) return null;
    const snapshot = {
      streamId: row.stream_id,
      decider: row.decider,
      version: row.version,
      revision: Number(row.revision),
      lastEventId: row.last_event_id,
      position: row.position,
      lastHash: row.last_hash,
    };
    const state =
      Number.isSafeInteger(snapshot.revision) && snapshot.revision >= 0 && checksum(snapshot, row.state) === row.checksum
        ? await decompress(row.state).then((json) => JSON.parse(json.toString('utf8')) as unknown, () => undefined)
        : undefined;
    if (state === undefined) {
      // Not what save() wrote: never used, and out of the way of the next save.
      await this.pool.query('DELETE FROM decider_snapshots WHERE stream_id = $1 AND checksum = $2', [streamId, row.checksum]);
      return null;
    }
    return { ...snapshot, state };
  }

  async save(snapshot: Snapshot): Promise<void> {
    const json = Buffer.from(JSON.stringify(snapshot.state), 'utf8');
    const state = await compress(json, { params: { [constants.BROTLI_PARAM_QUALITY]: QUALITY, [constants.BROTLI_PARAM_SIZE_HINT]: json.length } });
    await this.pool.query(
      `INSERT INTO decider_snapshots (stream_id, decider, version, revision, last_event_id, position, last_hash, state, checksum)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (stream_id) DO UPDATE SET
         decider = EXCLUDED.decider, version = EXCLUDED.version, revision = EXCLUDED.revision,
         last_event_id = EXCLUDED.last_event_id, position = EXCLUDED.position, last_hash = EXCLUDED.last_hash,
         state = EXCLUDED.state, checksum = EXCLUDED.checksum, taken_at = now()
       WHERE decider_snapshots.revision < EXCLUDED.revision
          OR decider_snapshots.version <> EXCLUDED.version
          OR decider_snapshots.decider <> EXCLUDED.decider`,
      [
        snapshot.streamId,
        snapshot.decider,
        snapshot.version,
        snapshot.revision,
        snapshot.lastEventId,
        snapshot.position,
        snapshot.lastHash,
        state,
        checksum(snapshot, state),
      ],
    );
  }

  async discard(snapshot: Pick<Snapshot, 'streamId' | 'revision' | 'lastEventId'>): Promise<void> {
    await this.pool.query('DELETE FROM decider_snapshots WHERE stream_id = $1 AND revision = $2 AND last_event_id = $3', [
      snapshot.streamId,
      snapshot.revision,
      snapshot.lastEventId,
    ]);
  }
}
