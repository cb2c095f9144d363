import { UUID_PATTERN } from '../newsroom/ids';
import { ProblemException } from './problem';
import { isStorableText } from './validation';

/** Query-string values as Fastify hands them over. */
export type QueryParams = Record<string, string | string[] | undefined>;

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 200;

/** No query parameter Copydesk reads is longer (`cursor` is the longest). */
export const MAX_QUERY_VALUE_LENGTH = 1000;

/**
 * One optional query parameter; empty counts as absent. A repeated one, one longer than
 * {@link MAX_QUERY_VALUE_LENGTH}, or one PostgreSQL could not take as text (NUL, unpaired surrogates) is a 400 naming it.
 */
export function queryParam(query: QueryParams | undefined, name: string): string | undefined {
  const value = query?.[name];
  if (Array.isArray(value)) throw ProblemException.validation([{ field: name, message: `${name} may be given once` }]);
  if (value === undefined || value === '') return undefined;
  if (value.length > MAX_QUERY_VALUE_LENGTH) throw ProblemException.validation([{ field: name, message: `${name} must be at most ${MAX_QUERY_VALUE_LENGTH} characters` }]);
  if (!isStorableText(value)) throw ProblemException.validation([{ field: name, message: `${name} must not contain NUL characters or unpaired surrogates` }]);
  return value;
}

export interface PageRequest<K> {
  limit: number;
  /** The key of the last item of the previous page; null for the first page. */
  after: K | null;
}

/** What a page answers: API.md's list shape. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/**
 * Keyset pagination. A cursor is opaque to clients: base64url of `[kind, key]`, where the key is the
 * sort key of the last item served. `kind` keeps a cursor from one list out of another.
 */
export function encodeCursor(kind: string, key: unknown): string {
  return Buffer.from(JSON.stringify([kind, key]), 'utf8').toString('base64url');
}

function decodeCursor(cursor: string, kind: string): unknown {
  if (!/^[A-Za-z0-9_-]{1,1000}$/.test(cursor)) return undefined;
  try {
    const decoded: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (!Array.isArray(decoded) || decoded.length !== 2 || decoded[0] !== kind) return undefined;
    return decoded[1];
  } catch {
    return undefined;
  }
}

/** `limit` (1..200, default 50) and `cursor`; either invalid is a 400 naming the field. */
export function pageRequest<K>(query: QueryParams | undefined, kind: string, parseKey: (key: unknown) => K | undefined): PageRequest<K> {
  const errors: { field: string; message: string }[] = [];
  const rawLimit = queryParam(query, 'limit');
  let limit = DEFAULT_LIMIT;
  if (rawLimit !== undefined) {
    limit = /^\d{1,4}$/.test(rawLimit) ? Number(rawLimit) : NaN;
    if (!(limit >= 1 && limit <= MAX_LIMIT)) errors.push({ field: 'limit', message: `limit must be an integer from 1 to ${MAX_LIMIT}` });
  }
  const rawCursor = queryParam(query, 'cursor');
  let after: K | null = null;
  if (rawCursor !== undefined) {
    const key = decodeCursor(rawCursor, kind);
    const parsed = key === undefined ? undefined : parseKey(key);
    if (parsed === undefined) errors.push({ field: 'cursor', message: 'cursor must be a nextCursor this list returned' });
    else after = parsed;
  }
  if (errors.length) throw ProblemException.validation(errors);
  return { limit, after };
}

/** Rows fetched with `limit + 1`: the extra row only says that there is a next page. */
export function toPage<R, T, K>(rows: R[], request: PageRequest<K>, kind: string, keyOf: (row: R) => K, render: (row: R) => T): Page<T> {
  const more = rows.length > request.limit;
  const served = more ? rows.slice(0, request.limit) : rows;
  return {
    items: served.map(render),
    nextCursor: more ? encodeCursor(kind, keyOf(served[served.length - 1])) : null,
  };
}

// Key parsers for the usual sort keys: a cursor is the client's text, so each key is checked as strictly
// as the column it is compared with (a forged cursor is a 400, never an error from PostgreSQL).
const MAX_POSITION = 2n ** 64n - 1n;
const MAX_REVISION = 2 ** 31 - 1;

/** A position (or another numeric sort key): a decimal string of an unsigned 64-bit integer. */
export const positionKey = (key: unknown): string | undefined =>
  typeof key === 'string' && /^(0|[1-9]\d{0,19})$/.test(key) && BigInt(key) <= MAX_POSITION ? key : undefined;
/** A stream revision, as the `integer` columns hold them; -1 is "before the first". */
export const revisionKey = (key: unknown): number | undefined =>
  typeof key === 'number' && Number.isInteger(key) && key >= -1 && key <= MAX_REVISION ? key : undefined;
export const textKey = (key: unknown): string | undefined => (typeof key === 'string' && key.length <= 1000 && isStorableText(key) ? key : undefined);
export const uuidKey = (key: unknown): string | undefined => (typeof key === 'string' && UUID_PATTERN.test(key) ? key.toLowerCase() : undefined);
