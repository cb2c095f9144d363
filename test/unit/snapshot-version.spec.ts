import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ARTICLE_SNAPSHOT_VERSION } from '../../src/newsroom/article/article.decider';
import { SOURCE_SNAPSHOT_VERSION } from '../../src/newsroom/source/source.decider';

/*
 * Stored snapshots of decider state are trusted only under the snapshot version they were written
 * with, so the version must change whenever what `evolve` makes of events changes. Forgetting that is
 * easy and silent (old snapshots would be folded on as if nothing had changed), hence this tripwire:
 * the source that decides the state (the state types and `evolve`, and for articles the quote
 * matching in text.ts) is fingerprinted per version. When this fails: if the change can alter a
 * folded state or its shape, bump the decider's SNAPSHOT_VERSION and record the new fingerprint under
 * the new version; if it cannot (a comment, a rename), record the new fingerprint under the same one.
 */
const KNOWN: Record<string, Record<string, string>> = {
  // '2' was 0cc753c383ba5725 until state and evolve moved to article.state.ts unchanged, then 4b52d1285a135e6d until
  // normaliseWhitespace's pattern left lone spaces alone (the same text out: test/unit/text.spec.ts holds it to the old one)
  article: { '1': 'aa4e648761e80c45', '2': '0b2f674354d445f9' },
  source: { '1': '4b584b7cfc7df44d' },
};

const ROOT = join(__dirname, '..', '..');
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');

/**
 * From the state section's banner to the decide section's (or to the end of a file that holds state and
 * evolve alone); the version constant itself is left out.
 */
function evolveSection(file: string): string {
  const text = read(file);
  const from = text.search(/^\/\/ ─+ state ──$/m);
  const decide = text.search(/^\/\/ ─+ decide ──$/m);
  const to = decide < 0 ? text.length : decide;
  if (from < 0 || to < from) throw new Error(`${file}: the state section banner is gone; update this spec`);
  return text
    .slice(from, to)
    .split('\n')
    .filter((line) => !/_SNAPSHOT_VERSION = /.test(line))
    .join('\n');
}

const fingerprint = (...parts: string[]) => createHash('sha256').update(parts.join('\n\u0000\n')).digest('hex').slice(0, 16);

describe('snapshot versions', () => {
  it(`article: the state and evolve are those of snapshot version ${ARTICLE_SNAPSHOT_VERSION}`, () => {
    const now = fingerprint(evolveSection('src/newsroom/article/article.state.ts'), read('src/newsroom/text.ts'));
    expect({ version: ARTICLE_SNAPSHOT_VERSION, fingerprint: now }).toEqual({ version: ARTICLE_SNAPSHOT_VERSION, fingerprint: KNOWN.article[ARTICLE_SNAPSHOT_VERSION] });
  });

  it(`source: the state and evolve are those of snapshot version ${SOURCE_SNAPSHOT_VERSION}`, () => {
    const now = fingerprint(evolveSection('src/newsroom/source/source.decider.ts'));
    expect({ version: SOURCE_SNAPSHOT_VERSION, fingerprint: now }).toEqual({ version: SOURCE_SNAPSHOT_VERSION, fingerprint: KNOWN.source[SOURCE_SNAPSHOT_VERSION] });
  });
});
