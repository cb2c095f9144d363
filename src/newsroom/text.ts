// \p{White_Space} covers NBSP, the thin/hair spaces, NEL and the line/paragraph separators; U+FEFF is
// not White_Space in Unicode but turns up in pasted copy as an invisible space.
// Only the runs that change: two or more whitespace characters, or one that is not an ASCII space. A
// lone space (most of them, in prose) is left where it is instead of being replaced by itself, which
// made this several times slower on long bodies; the result is the same as replacing every run.
const WHITESPACE_RUN = /[\p{White_Space}\uFEFF]{2,}|[^\P{White_Space} ]|\uFEFF/gu;
const PARAGRAPH_BREAK = /\n\s*\n/;
const NOT_LETTER_OR_DIGIT = /[^\p{L}\p{N}]+/u;

/** NFC-normalises, collapses every run of whitespace into one ASCII space and trims. Punctuation is kept as is. */
export function normaliseWhitespace(s: string): string {
  return s.normalize('NFC').replace(WHITESPACE_RUN, ' ').trim();
}

/** Paragraphs are separated by blank lines; each is trimmed and empty ones are dropped. */
export function splitParagraphs(body: string): string[] {
  return body
    .split(PARAGRAPH_BREAK)
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
}

/**
 * The index of the paragraph in which `quoteText` appears (both whitespace-normalised), or null.
 * A quote spanning paragraphs is found in the paragraphs joined by a single space and reported at the
 * paragraph where it starts.
 */
export function findQuoteParagraph(body: string, quoteText: string): number | null {
  return quoteLocator(body)(quoteText);
}

/**
 * `findQuoteParagraph` for many quotes in one body: the body is split and normalised once, not once
 * per quote, and each distinct quote text is normalised and looked up once. A body revision
 * re-locates every live quote: without this, folding an article cost revisions × quotes × body.
 */
export function quoteLocator(body: string): (quoteText: string) => number | null {
  const paragraphs = splitParagraphs(body).map(normaliseWhitespace);
  let joined: string | undefined;
  const found = new Map<string, number | null>();
  return (quoteText) => {
    const known = found.get(quoteText);
    if (known !== undefined) return known;
    const quote = normaliseWhitespace(quoteText);
    joined ??= paragraphs.join(' ');
    const paragraph = quote === '' ? null : locate(paragraphs, joined, quote);
    found.set(quoteText, paragraph);
    return paragraph;
  };
}

function locate(paragraphs: string[], joined: string, quote: string): number | null {
  const within = paragraphs.findIndex((p) => p.includes(quote));
  if (within !== -1) return within;

  const at = joined.indexOf(quote);
  if (at === -1) return null;
  let end = 0;
  for (let i = 0; i < paragraphs.length; i++) {
    end += paragraphs[i].length;
    if (at < end) return i;
    end += 1; // the joining space
  }
  return null;
}

/** Lowercase words joined by `-`; anything that is not a Unicode letter or digit separates words. */
export function slugify(label: string): string {
  return label
    .normalize('NFC')
    .toLowerCase()
    .split(NOT_LETTER_OR_DIGIT)
    .filter((w) => w.length > 0)
    .join('-');
}
