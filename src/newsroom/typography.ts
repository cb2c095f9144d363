import { normaliseWhitespace, splitParagraphs } from './text';

/*
 * Text rules of the command side that the fold does not use (kept out of text.ts, whose every change
 * is a change of the snapshot version).
 */

// Whitespace, controls, format characters (zero-width space and joiners, directional marks, BOM,
// soft hyphen) and the other default-ignorable code points (fillers, variation selectors, tags), and
// the blank braille pattern: text made only of these shows nothing.
const INVISIBLE = /^[\p{White_Space}\p{Cc}\p{Cf}\p{Default_Ignorable_Code_Point}\u2800]*$/u;

/** True when the text shows nothing: empty, or only whitespace and invisible characters. */
export function isBlank(s: string): boolean {
  return INVISIBLE.test(s);
}

// Typographic look-alikes, each folded to its ASCII form one UTF-16 unit for one, so that a position in
// the folded text is the same position in the original.
const LOOK_ALIKES: [RegExp, string][] = [
  [/[\u2018\u2019\u201A\u201B\u2039\u203A\u2032\u02BC\u0060\u00B4\uFF07]/g, "'"],
  [/[\u201C\u201D\u201E\u201F\u00AB\u00BB\u2033\u301D\u301E\uFF02]/g, '"'],
  [/[\u2010\u2011\u2012\u2013\u2014\u2015\u2212\uFE58\uFE63\uFF0D]/g, '-'],
];

function foldLookAlikes(s: string): string {
  return LOOK_ALIKES.reduce((text, [pattern, ascii]) => text.replace(pattern, ascii), s);
}

/** Where a quote appears in a body once quotation marks, apostrophes and dashes are compared loosely. */
export interface LookAlikeMatch {
  /** The passage as the body writes it (whitespace-normalised): a quote text that matches. */
  bodyText: string;
  /** Each character that differs, as the quote has it and as the body has it. */
  differences: { quote: string; body: string }[];
}

/**
 * For a quote that is not in the body verbatim: the passage it would match if typographic look-alikes
 * (straight and curly quotes, apostrophes, primes, guillemets, hyphens and dashes) were the same
 * character, or null when that does not help either.
 */
export function lookAlikeMatch(body: string, quoteText: string): LookAlikeMatch | null {
  const joined = splitParagraphs(body).map(normaliseWhitespace).join(' ');
  const quote = normaliseWhitespace(quoteText);
  if (quote === '') return null;
  const at = foldLookAlikes(joined).indexOf(foldLookAlikes(quote));
  if (at === -1) return null;
  const bodyText = joined.slice(at, at + quote.length);
  const differences = new Map<string, { quote: string; body: string }>();
  for (let i = 0; i < quote.length; i++)
    if (quote[i] !== bodyText[i]) differences.set(quote[i] + bodyText[i], { quote: quote[i], body: bodyText[i] });
  return { bodyText, differences: [...differences.values()] };
}
