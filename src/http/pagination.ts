import { ProblemException } from './problem';

/** Query-string values as Fastify hands them over. */
export type QueryParams = Record<string, string | string[] | undefined>;

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 200;

/** One optional query parameter; empty counts as absent, a repeated one is refused. */
export function queryParam(query: QueryParams | undefined, name: string): string | undefined {
  const value = query?.[name];
  if (Array.isArray(value)) throw ProblemException.validation([{ field: name, message: `${name} may be given once` }]);
  return value === undefined || value === '' ? undefined : value;
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

// Key parsers for the usual sort keys.
export const positionKey = (key: unknown): string | undefined => (typeof key === 'string' && /^\d{1,30}$/.test(key) ? key : undefined);
export const integerKey = (key: unknown): number | undefined => (typeof key === 'number' && Number.isSafeInteger(key) && key >= -1 ? key : undefined);
export const textKey = (key: unknown): string | undefined => (typeof key === 'string' && key.length <= 1000 ? key : undefined);
