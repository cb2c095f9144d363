import fc from 'fast-check';
import { type ArticleEvent, type ArticleState, evolve, evolveAll, initialState } from '../../src/newsroom/article/article.decider';
import * as text from '../../src/newsroom/text';
import { referenceEvolve } from '../support/reference-article-evolve';

/*
 * The linear fold (`evolveAll`, and `evolve` built on it) against the old one-copy-per-event evolve,
 * over random event sequences, including events that name quotes and claims that do not exist and
 * events before the draft: same state, same JSON (key order included, snapshots are stored as JSON),
 * and the state folded from is never changed.
 */

const PARAGRAPHS = [
  'The council met on Monday.',
  'Critics   said “it is a mistake” — and left…',
  'It passed\u00a0narrowly today.',
  'Le cafe\u0301 est fermé.',
  'We will rebuild it, the mayor said.',
];
const QUOTE_TEXTS = ['it is a mistake', 'Monday. Critics', 'passed narrowly', 'Le café', 'We  will\n rebuild it', 'nowhere in the body', ' \n '];
const quoteId = fc.constantFrom('q0', 'q1', 'q2', 'q3', 'q4', 'q5');
const claimId = fc.constantFrom('c0', 'c1', 'c2', 'c3');
const body = fc
  .shuffledSubarray(PARAGRAPHS, { minLength: 0 })
  .chain((ps) => fc.constantFrom('\n\n', '\n \n', '\n\n\n').map((sep) => ps.join(sep)));
const source = fc.record({ id: fc.constantFrom('s1', 's2'), name: fc.constantFrom('Jane', 'Joe'), title: fc.constantFrom(null, 'Mayor'), organization: fc.constant(null) }, { noNullPrototype: true });
const verdict = fc.constantFrom('verified' as const, 'false' as const, 'misleading' as const, 'unverifiable' as const);
const by = fc.constantFrom('u1', 'u2', 'u3');

const event: fc.Arbitrary<ArticleEvent> = fc.oneof(
  { weight: 1, arbitrary: fc.tuple(body, by).map(([b, u]) => ({ type: 'ArticleDrafted' as const, data: { articleId: 'a1', headline: 'H', body: b, byline: null, desk: 'Metro', by: u } })) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom('H1', 'H2'), by).map(([headline, u]) => ({ type: 'HeadlineChanged' as const, data: { headline, by: u } })) },
  // Older BodyRevised events carry returnedToDraft; newer ones have ArticleReturnedToDraft after them.
  {
    weight: 4,
    arbitrary: fc
      .tuple(body, fc.option(fc.boolean(), { nil: undefined }), by)
      .map(([b, returnedToDraft, u]) => ({ type: 'BodyRevised' as const, data: returnedToDraft === undefined ? { body: b, by: u } : { body: b, returnedToDraft, by: u } })),
  },
  {
    weight: 5,
    arbitrary: fc
      .tuple(quoteId, fc.constantFrom(...QUOTE_TEXTS), fc.nat(4), by)
      .map(([id, text, paragraph, u]) => ({ type: 'QuoteAdded' as const, data: { quoteId: id, text, speaker: 'Jane', paragraph, by: u } })),
  },
  {
    weight: 3,
    arbitrary: fc
      .tuple(quoteId, source, fc.constantFrom(null, 'told us'), by)
      .map(([id, s, attribution, u]) => ({ type: 'SourceAttributed' as const, data: { quoteId: id, source: s, attribution, method: 'interview' as const, by: u } })),
  },
  { weight: 2, arbitrary: fc.tuple(quoteId, by).map(([id, u]) => ({ type: 'QuoteWithdrawn' as const, data: { quoteId: id, reason: 'cut', by: u } })) },
  { weight: 2, arbitrary: fc.constantFrom('taxes', 'roads', '2024').map((slug) => ({ type: 'TopicTagged' as const, data: { slug, label: slug.toUpperCase() } })) },
  { weight: 1, arbitrary: fc.constantFrom('taxes', 'roads', '2024').map((slug) => ({ type: 'TopicUntagged' as const, data: { slug } })) },
  {
    weight: 3,
    arbitrary: fc.tuple(claimId, fc.option(quoteId), by).map(([id, q, u]) => ({ type: 'ClaimRecorded' as const, data: { claimId: id, text: `claim ${id}`, quoteId: q, by: u } })),
  },
  {
    weight: 3,
    arbitrary: fc
      .tuple(claimId, verdict, fc.option(fc.constant('note')))
      .map(([id, v, note]) => ({ type: 'ClaimVerdictRecorded' as const, data: { claimId: id, verdict: v, evidence: [{ note: 'minutes' }], note } })),
  },
  { weight: 1, arbitrary: fc.constantFrom('in_review' as const, 'approved' as const).map((from) => ({ type: 'ArticleReturnedToDraft' as const, data: { from } })) },
  { weight: 1, arbitrary: fc.constant({ type: 'ArticleSubmitted' as const, data: { submittedBy: 'u1' } }) },
  { weight: 1, arbitrary: fc.constant({ type: 'ArticleApproved' as const, data: { approvedBy: 'u2' } }) },
  { weight: 1, arbitrary: fc.constant({ type: 'ArticlePublished' as const, data: {} }) },
  { weight: 1, arbitrary: fc.constant({ type: 'ArticleRetracted' as const, data: { reason: 'wrong' } }) },
  { weight: 1, arbitrary: fc.constant({ type: 'CorrectionIssued' as const, data: { text: 'fixed' } }) },
);

/** Usually drafted first, sometimes not (events before the draft are ignored), sometimes drafted twice. */
const history = fc.tuple(fc.boolean(), fc.array(event, { maxLength: 60 })).map(([draftFirst, rest]) =>
  draftFirst ? [{ type: 'ArticleDrafted' as const, data: { articleId: 'a1', headline: 'H', body: PARAGRAPHS.join('\n\n'), byline: null, desk: null, by: 'u1' } }, ...rest] : rest,
);

const referenceFold = (events: ArticleEvent[], from: ArticleState = initialState()) => events.reduce(referenceEvolve, from);

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

function expectSameState(actual: ArticleState, expected: ArticleState): void {
  expect(actual).toStrictEqual(expected);
  expect(JSON.stringify(actual)).toBe(JSON.stringify(expected));
}

describe('folding an article', () => {
  it('evolveAll folds to what the old one-copy-per-event evolve folds to', () => {
    fc.assert(
      fc.property(history, (events) => {
        expectSameState(evolveAll(initialState(), events), referenceFold(events));
      }),
      { numRuns: 500 },
    );
  });

  it('evolve, one event at a time, folds to the same state', () => {
    fc.assert(
      fc.property(history, (events) => {
        expectSameState(events.reduce(evolve, initialState()), referenceFold(events));
      }),
      { numRuns: 300 },
    );
  });

  it('folding on from a folded state (a snapshot and its tail) equals folding from the start, and never changes the state folded from', () => {
    fc.assert(
      fc.property(history, fc.nat(), (events, at) => {
        const cut = events.length ? at % (events.length + 1) : 0;
        // Frozen: any write into the snapshot's state, however deep, throws here.
        const snapshot = deepFreeze(evolveAll(initialState(), events.slice(0, cut)));
        const before = JSON.stringify(snapshot);
        expectSameState(evolveAll(snapshot, events.slice(cut)), referenceFold(events));
        expect(JSON.stringify(snapshot)).toBe(before);
      }),
      { numRuns: 500 },
    );
  });

  it('survives a JSON round trip of the state it folds on from (how snapshots are stored)', () => {
    fc.assert(
      fc.property(history, fc.nat(), (events, at) => {
        const cut = events.length ? at % (events.length + 1) : 0;
        const stored = JSON.parse(JSON.stringify(evolveAll(initialState(), events.slice(0, cut)))) as ArticleState;
        expectSameState(evolveAll(stored, events.slice(cut)), referenceFold(events));
      }),
      { numRuns: 300 },
    );
  });

  it('splits and normalises the body once per revision, whatever the number of quotes (linear, not quadratic)', () => {
    const paragraphs = Array.from({ length: 40 }, (_, i) => `Paragraph ${i} says something about item ${i} at length.`);
    const added: ArticleEvent[] = Array.from({ length: 2000 }, (_, i) => ({
      type: 'QuoteAdded',
      data: { quoteId: `q${i}`, text: `item ${i % 40} at length`, speaker: 'S', paragraph: i % 40, by: 'u1' },
    }));
    const revisions: ArticleEvent[] = Array.from({ length: 300 }, (_, i) => ({
      type: 'BodyRevised',
      data: { body: (i % 2 ? paragraphs : [...paragraphs].reverse()).join('\n\n'), by: 'u1' },
    }));
    const events: ArticleEvent[] = [{ type: 'ArticleDrafted', data: { articleId: 'a', headline: 'H', body: paragraphs.join('\n\n'), byline: null, desk: null, by: 'u1' } }, ...added, ...revisions];
    // The old fold split and normalised the whole body for every quote at every revision (300 × 2,000 times
    // here): a locator is made once per revision, and each of its lookups only normalises the quote.
    const locators = jest.spyOn(text, 'quoteLocator');
    try {
      const state = evolveAll(initialState(), events);
      expect(locators).toHaveBeenCalledTimes(revisions.length);
      expect(state.status === 'draft' && state.quotes.q5.paragraph).toBe(5);
    } finally {
      locators.mockRestore();
    }
  });
});
