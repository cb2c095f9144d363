import fc from 'fast-check';
import { findQuoteParagraph, normaliseWhitespace, slugify, splitParagraphs } from '../../src/newsroom/text';

describe('normaliseWhitespace', () => {
  it('collapses runs of any Unicode whitespace into one ASCII space and trims', () => {
    const input = '\u00a0 Hello,\u00a0\u00a0world\u2009and\u202fmore\r\n\n\tlines\u2028end\u3000 ';
    expect(normaliseWhitespace(input)).toBe('Hello, world and more lines end');
  });

  it('keeps typographic characters untouched', () => {
    expect(normaliseWhitespace('“It’s  fine” — she  said…')).toBe('“It’s fine” — she said…');
  });

  it('gives what replacing every whitespace run by one space gives, whatever the text', () => {
    const every = (s: string) => s.normalize('NFC').replace(/[\p{White_Space}\uFEFF]+/gu, ' ').trim();
    const pieces = fc.constantFrom(' ', '  ', '\t', '\n', '\r\n', '\u00a0', '\u2009', '\u2028', '\u3000', '\ufeff', 'a', 'é', 'e\u0301', '—', 'x y');
    fc.assert(fc.property(fc.array(fc.oneof(pieces, fc.string()), { maxLength: 30 }), (parts) => normaliseWhitespace(parts.join('')) === every(parts.join(''))), { numRuns: 2000 });
  });

  it('NFC-normalises decomposed characters', () => {
    const decomposed = 'cafe\u0301';
    expect(normaliseWhitespace(decomposed)).toBe('caf\u00e9');
  });
});

describe('splitParagraphs', () => {
  it('splits on blank lines, including lines holding only whitespace', () => {
    expect(splitParagraphs('One.\n\nTwo.\n   \t\n\n\nThree.')).toEqual(['One.', 'Two.', 'Three.']);
  });

  it('does not split on a single line break', () => {
    expect(splitParagraphs('First line\nsecond line')).toEqual(['First line\nsecond line']);
  });

  it('splits on Windows line endings', () => {
    expect(splitParagraphs('One.\r\n\r\nTwo.')).toEqual(['One.', 'Two.']);
  });

  it('trims paragraphs and drops empty ones', () => {
    expect(splitParagraphs('\n\n  A  \n\n\n\n B\n\n')).toEqual(['A', 'B']);
    expect(splitParagraphs('  \n\n ')).toEqual([]);
  });
});

describe('findQuoteParagraph', () => {
  const body = [
    'The council met on Tuesday.',
    'The mayor said: “We will not  raise\ntaxes this year.” Critics disagreed.',
    'Officials called it “a mistake” — and the vote was close…',
    'It’s over, she said.',
  ].join('\n\n');

  it('returns the index of the paragraph holding the quote', () => {
    expect(findQuoteParagraph(body, 'The council met')).toBe(0);
    expect(findQuoteParagraph(body, 'Critics disagreed.')).toBe(1);
  });

  it('matches across collapsed whitespace and line breaks', () => {
    expect(findQuoteParagraph(body, 'We will not raise taxes this year.')).toBe(1);
    expect(findQuoteParagraph(body, 'We   will\u00a0not raise\n\ntaxes')).toBe(1);
  });

  it('matches typographic characters exactly', () => {
    expect(findQuoteParagraph(body, '“a mistake” — and the vote was close…')).toBe(2);
    expect(findQuoteParagraph(body, 'It’s over')).toBe(3);
  });

  it('does not treat straight quotes, hyphens or dots as their typographic forms', () => {
    expect(findQuoteParagraph(body, "It's over")).toBeNull();
    expect(findQuoteParagraph(body, '"a mistake"')).toBeNull();
    expect(findQuoteParagraph(body, 'mistake” - and')).toBeNull();
    expect(findQuoteParagraph(body, 'was close...')).toBeNull();
  });

  it('finds a quote spanning paragraphs at the paragraph where it starts', () => {
    expect(findQuoteParagraph(body, 'Critics disagreed. Officials called it')).toBe(1);
    expect(findQuoteParagraph(body, 'close… It’s over')).toBe(2);
    expect(findQuoteParagraph('Vote.\n\nIt passed\n\nnarrowly today.', 'd narrowly')).toBe(1);
  });

  it('prefers a match within one paragraph to an earlier one spanning a break', () => {
    expect(findQuoteParagraph('we said\n\nno more\n\nwe said no more', 'said no more')).toBe(2);
  });

  it('returns null when the quote is absent or blank', () => {
    expect(findQuoteParagraph(body, 'We will raise taxes')).toBeNull();
    expect(findQuoteParagraph(body, ' \n ')).toBeNull();
  });

  it('matches a decomposed quote against a precomposed body', () => {
    expect(findQuoteParagraph('Le caf\u00e9 est fermé.', 'cafe\u0301 est')).toBe(0);
  });
});

describe('slugify', () => {
  it.each([
    ['Climate Change', 'climate-change'],
    ['  COVID-19 / Health ', 'covid-19-health'],
    ['Économie & Société', 'économie-société'],
    ['Élections 2024', 'élections-2024'],
    ['It’s—the economy…', 'it-s-the-economy'],
    ['日本 経済', '日本-経済'],
    ['already-a-slug', 'already-a-slug'],
  ])('%j → %j', (label, slug) => {
    expect(slugify(label)).toBe(slug);
  });

  it('composes decomposed letters before splitting', () => {
    expect(slugify('Cafe\u0301 Society')).toBe('caf\u00e9-society');
  });

  it('is empty when the label has no letters or digits', () => {
    expect(slugify(' — / … ')).toBe('');
  });
});
