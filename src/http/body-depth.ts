/** No Copydesk body nests deeper than 4; generous, yet far from any recursive library's stack limit. */
export const MAX_BODY_DEPTH = 32;

/** Depth of a parsed JSON value, computed without recursion (a hostile body must not overflow the stack here). */
export function jsonDepth(value: unknown, limit = MAX_BODY_DEPTH): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (current === null || typeof current !== 'object') continue;
    if (depth + 1 > deepest) deepest = depth + 1;
    if (deepest > limit) return deepest;
    for (const child of Object.values(current as object)) stack.push([child, depth + 1]);
  }
  return deepest;
}
