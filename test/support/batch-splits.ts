import fc from 'fast-check';

/** How a run of events is cut into batches: all at once, one at a time, or chunks of these sizes (cycled); mostly large. */
export const split = fc.oneof(
  { weight: 3, arbitrary: fc.constant<number[]>([Number.MAX_SAFE_INTEGER]) },
  { weight: 1, arbitrary: fc.constant<number[]>([1]) },
  { weight: 3, arbitrary: fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 8 }) },
);

/** `items` cut into consecutive batches of `sizes` (cycled). */
export function batches<T>(items: T[], sizes: number[]): T[][] {
  const out: T[][] = [];
  for (let at = 0, i = 0; at < items.length; i++) {
    const size = sizes[i % sizes.length];
    out.push(items.slice(at, at + size));
    at += size;
  }
  return out;
}
