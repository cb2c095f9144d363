/** Helpers for specs that page lists to the end and check what they were served. */

export interface Answer {
  status: number;
  body: any;
}

export type Get = (path: string, headers?: Record<string, string>) => Promise<Answer>;

/**
 * Follows `nextCursor` from the first page to the last and returns every item served, in order.
 * Fails on anything but 200, and on a cursor served twice (a loop would otherwise never end).
 */
export async function pageThrough(get: Get, path: string, limit: number, onPage?: (page: number) => Promise<void>): Promise<any[]> {
  const items: any[] = [];
  const seen = new Set<string>();
  const joiner = path.includes('?') ? '&' : '?';
  let cursor: string | null = null;
  for (let page = 0; ; page++) {
    const res = await get(`${path}${joiner}limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
    if (res.status !== 200) throw new Error(`${path} page ${page} (limit ${limit}): ${res.status} ${JSON.stringify(res.body)}`);
    if (res.body.items.length > limit) throw new Error(`${path}: ${res.body.items.length} items on a page of ${limit}`);
    items.push(...res.body.items);
    cursor = res.body.nextCursor;
    if (cursor === null) return items;
    if (res.body.items.length === 0) throw new Error(`${path}: an empty page with a next cursor`);
    if (seen.has(cursor)) throw new Error(`${path}: cursor ${cursor} served twice`);
    seen.add(cursor);
    await onPage?.(page);
  }
}

/** Keys served more than once. */
export function duplicates(keys: string[]): string[] {
  const seen = new Set<string>();
  return keys.filter((k) => (seen.has(k) ? true : (seen.add(k), false)));
}

/**
 * What paging while others write must show: every key that existed before (`before`) exactly once,
 * nothing twice, nothing unknown, and everything in the list's order (`order`: every key the list may
 * rightly have served at some moment of the writes, in the order it promises). New keys may appear or not.
 */
export function checkServedDuringWrites(served: string[], before: string[], order: string[]): string[] {
  const problems: string[] = [];
  const dupes = duplicates(served);
  if (dupes.length) problems.push(`served twice: ${dupes.slice(0, 5).join(', ')} (${dupes.length})`);
  const servedSet = new Set(served);
  const missing = before.filter((k) => !servedSet.has(k));
  if (missing.length) problems.push(`missing: ${missing.slice(0, 5).join(', ')} (${missing.length} of ${before.length})`);
  const known = new Set(order);
  const unknown = served.filter((k) => !known.has(k));
  if (unknown.length) problems.push(`unknown: ${unknown.slice(0, 5).join(', ')}`);
  const expected = order.filter((k) => servedSet.has(k));
  const firstOff = expected.findIndex((k, i) => served[i] !== k);
  if (problems.length === 0 && firstOff >= 0) problems.push(`out of order at ${firstOff}: served ${served[firstOff]}, expected ${expected[firstOff]}`);
  return problems;
}

/** Runs the tasks with at most `n` at a time; rejects with the first failure. */
export async function inParallel(tasks: (() => Promise<unknown>)[], n: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) await tasks[next++]();
  };
  await Promise.all(Array.from({ length: Math.min(n, tasks.length) }, worker));
}

/** Decimal positions, newest first or oldest first. */
export const byPositionDesc = (a: string, b: string) => (BigInt(a) < BigInt(b) ? 1 : BigInt(a) > BigInt(b) ? -1 : 0);
export const byPositionAsc = (a: string, b: string) => -byPositionDesc(a, b);
