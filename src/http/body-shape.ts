import { FieldError } from './problem';

/** No Copydesk body nests deeper than 4; generous, yet far from any recursive library's stack limit. */
export const MAX_BODY_DEPTH = 32;

/**
 * The largest Copydesk body, a verdict with 100 evidence items, holds about 300 values; a body with
 * thousands is an attack on the parser and the validators (and on the size of the answer listing what is wrong).
 */
export const MAX_BODY_VALUES = 1000;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN_OBJECT = 0x7b;
const OPEN_ARRAY = 0x5b;
const CLOSE_OBJECT = 0x7d;
const CLOSE_ARRAY = 0x5d;
const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/**
 * Depth and number of values (the whole, every member's value, every array element) of a JSON text in
 * UTF-8, read off its punctuation in one pass over the bytes without parsing, and given up as soon as
 * either limit is passed. V8 takes a quarter of a second to parse an object of 80,000 properties; this
 * takes well under a millisecond a megabyte (strings are skipped with a native search for the next
 * quote), so a hostile body is refused before it costs anything. For malformed text the figures are
 * meaningless, and JSON.parse refuses it next.
 */
export function jsonTextShape(bytes: Buffer, limits = { depth: MAX_BODY_DEPTH, values: MAX_BODY_VALUES }): { depth: number; values: number } {
  let depth = 0;
  let deepest = 0;
  let values = 1;
  let firstElement = false;
  const inArray: boolean[] = [];
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i];
    if (isSpace(c)) continue;
    if (firstElement) {
      firstElement = false;
      if (c !== CLOSE_ARRAY) values++;
    }
    if (c === QUOTE) {
      // The closing quote is the next one not escaped by an odd run of backslashes.
      for (;;) {
        const end = bytes.indexOf(QUOTE, i + 1);
        if (end === -1) return { depth: deepest, values };
        let slashes = 0;
        while (bytes[end - 1 - slashes] === BACKSLASH) slashes++;
        i = end;
        if (slashes % 2 === 0) break;
      }
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      inArray.push(c === OPEN_ARRAY);
      firstElement = c === OPEN_ARRAY;
      if (++depth > deepest) deepest = depth;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      inArray.pop();
      depth--;
    } else if (c === COLON || (c === COMMA && inArray[inArray.length - 1])) values++;
    if (deepest > limits.depth || values > limits.values) break;
  }
  return { depth: deepest, values };
}

/** What is wrong with a JSON text's shape, checked before it is parsed (and so before anything walks it). */
export function bodyShapeError(bytes: Buffer): FieldError | undefined {
  const { depth, values } = jsonTextShape(bytes);
  if (depth > MAX_BODY_DEPTH) return { field: '(body)', message: `the body must not nest deeper than ${MAX_BODY_DEPTH} levels` };
  if (values > MAX_BODY_VALUES) return { field: '(body)', message: `the body must not hold more than ${MAX_BODY_VALUES} values` };
  return undefined;
}
