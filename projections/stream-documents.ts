import { ProjectedEvent, Sql, streamEntityId } from './projection';

/*
 * The two things a projection that keeps one document per stream does with a batch: find, for each
 * stream the batch names, what is stored and which events are new to it; and write the rows derived
 * from its documents by what changed in them.
 */

/** One stream of the batch: its id as PostgreSQL spells it, what is stored of it, and its new events in the order delivered (the log's). */
export interface StreamToEvolve<S> {
  id: string;
  stored: S | null;
  fresh: ProjectedEvent[];
}

/**
 * Groups the batch by stream and loads what is stored of each with `load` (one statement: it answers
 * each key of `article-<key>` with the id as PostgreSQL reads it, so that two spellings of one uuid are
 * one stream, and an id that is no uuid fails the batch). Events at or below the revision already
 * applied (stored, or earlier in the batch) are re-deliveries and are left out.
 */
export async function streamsToEvolve<S>(
  events: readonly ProjectedEvent[],
  load: (keys: string[]) => Promise<{ key: string; id: string; stored: S | null }[]>,
  revisionOf: (stored: S) => number,
): Promise<StreamToEvolve<S>[]> {
  /** Each stream key's events, by their place in the batch. */
  const byKey = new Map<string, number[]>();
  events.forEach((event, index) => {
    const key = streamEntityId(event);
    const list = byKey.get(key);
    if (list) list.push(index);
    else byKey.set(key, [index]);
  });
  if (byKey.size === 0) return [];
  const streams = new Map<string, { stored: S | null; indexes: number[] }>();
  for (const { key, id, stored } of await load([...byKey.keys()])) {
    const stream = streams.get(id) ?? { stored, indexes: [] };
    stream.indexes.push(...byKey.get(key)!);
    streams.set(id, stream);
  }
  return [...streams].map(([id, { stored, indexes }]) => {
    // In the order delivered (two spellings of one id were grouped apart): an event that comes after a
    // later revision of its stream is a re-delivery, as it is when applied one at a time.
    const ordered = indexes.length > 1 ? indexes.sort((a, b) => a - b) : indexes;
    let applied = stored === null ? -1 : revisionOf(stored);
    const fresh = ordered.map((i) => events[i]).filter((e) => e.revision > applied && ((applied = e.revision), true));
    return { id, stored, fresh };
  });
}

// ───────────────────────────────────────────────────────────── derived rows ──

type Row = Record<string, string | number | null>;

/** A derived table: its name, its primary key's columns and its other columns, with their SQL types. */
export interface DerivedTable {
  table: string;
  key: Readonly<Record<string, string>>;
  columns: Readonly<Record<string, string>>;
}

/** The rows a batch removes (their keys) and inserts or changes in one derived table. */
export class RowChanges {
  readonly removed: Row[] = [];
  readonly upserted: Row[] = [];

  /** Adds the difference between a document's rows before and after. */
  add(spec: DerivedTable, before: readonly Row[], after: readonly Row[]): void {
    const keyOf = (row: Row) => JSON.stringify(Object.keys(spec.key).map((c) => row[c]));
    const old = new Map(before.map((row) => [keyOf(row), row]));
    for (const row of after) {
      const key = keyOf(row);
      const was = old.get(key);
      old.delete(key);
      if (!was || JSON.stringify(was) !== JSON.stringify(row)) this.upserted.push(row);
    }
    for (const gone of old.values()) this.removed.push(Object.fromEntries(Object.keys(spec.key).map((c) => [c, gone[c]])));
  }
}

/** Applies a batch's changes to a derived table in one statement (none when nothing changed). */
export async function syncRows(sql: Sql, spec: DerivedTable, changes: RowChanges): Promise<void> {
  if (changes.removed.length === 0 && changes.upserted.length === 0) return;
  const keys = Object.keys(spec.key);
  const all = { ...spec.key, ...spec.columns };
  const record = (types: Readonly<Record<string, string>>) => Object.entries(types).map(([c, t]) => `${c} ${t}`).join(', ');
  const update = Object.keys(spec.columns).map((c) => `${c} = EXCLUDED.${c}`);
  await sql(
    `WITH removed AS (
       DELETE FROM {${spec.table}} d USING jsonb_to_recordset($1::jsonb) AS r(${record(spec.key)})
       WHERE (${keys.map((c) => `d.${c}`).join(', ')}) = (${keys.map((c) => `r.${c}`).join(', ')})
     )
     INSERT INTO {${spec.table}} (${Object.keys(all).join(', ')})
     SELECT ${Object.keys(all).join(', ')} FROM jsonb_to_recordset($2::jsonb) AS r(${record(all)})
     ON CONFLICT (${keys.join(', ')}) DO ${update.length ? `UPDATE SET ${update.join(', ')}` : 'NOTHING'}`,
    [toJson(changes.removed), toJson(changes.upserted)],
  );
}

/**
 * About how long `value`'s JSON text is, without writing it: each string by its length, a few
 * characters for every other value, key and separator. Cheaper than JSON.stringify (nothing is
 * built); for bounding what is kept in memory, not for anything stored.
 */
export function approximateJsonLength(value: unknown): number {
  if (typeof value === 'string') return value.length + 2;
  if (value === null || typeof value !== 'object') return 6;
  let length = 2;
  if (Array.isArray(value)) {
    for (const item of value) length += approximateJsonLength(item) + 1;
  } else {
    for (const key of Object.keys(value)) length += key.length + 4 + approximateJsonLength((value as Record<string, unknown>)[key]);
  }
  return length;
}

/**
 * JSON for a jsonb parameter. A lone UTF-16 surrogate (JavaScript strings may hold one; JSON.stringify
 * writes it as a `\ud800`-style escape, which jsonb refuses) becomes U+FFFD, as it does when
 * node-postgres sends a string to a text column. Only text that has such an escape is written again
 * with a replacer (several times slower, and documents are large).
 */
export function toJson(value: unknown): string {
  const text = JSON.stringify(value);
  return SURROGATE_ESCAPE.test(text) ? JSON.stringify(value, wellFormed) : text;
}

const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;
const wellFormed = (_key: string, v: unknown) => (typeof v === 'string' ? (v as string & { toWellFormed(): string }).toWellFormed() : v);
