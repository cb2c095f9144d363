import type { Actor, CommandMetadata } from '../../src/newsroom/actor';
import {
  ARTICLE_EVENT_TYPES,
  type Article,
  type ArticleCommand,
  type ArticleEvent,
  type ArticleState,
  type SourceSnapshot,
  articleStream,
  decider,
} from '../../src/newsroom/article/article.decider';
import { DeciderSpec } from '../support/decider-spec';

const reporter: Actor = { id: 'u-reporter', name: 'Rita Reporter', roles: ['reporter'] };
const editor: Actor = { id: 'u-editor', name: 'Ed Editor', roles: ['editor'] };
const otherEditor: Actor = { id: 'u-editor-2', name: 'Edna Editor', roles: ['editor'] };
const checker: Actor = { id: 'u-checker', name: 'Fay Checker', roles: ['fact_checker'] };

const meta = (actor: Actor): CommandMetadata => ({ actor, now: '2025-03-01T09:00:00.000Z' });

type CommandOf<T extends ArticleCommand['type']> = Extract<ArticleCommand, { type: T }>;
function command<T extends ArticleCommand['type']>(
  type: T,
  data: CommandOf<T>['data'],
  actor: Actor = reporter,
): ArticleCommand {
  return { type, data, metadata: meta(actor) } as ArticleCommand;
}

const ARTICLE_ID = '6f1c2b9e-2a4e-4c55-9d7b-1f0e3a6c8d21';
const BODY = [
  'The council met on Tuesday.',
  'The mayor said “we will not raise taxes this year” and left.',
  'Critics called it a stunt — a cheap one…',
].join('\n\n');

const mayor: SourceSnapshot = { id: 'src-mayor', name: 'Jo Mayor', title: 'Mayor', organization: 'City Hall' };
const critic: SourceSnapshot = { id: 'src-critic', name: 'Al Critic', title: null, organization: null };

const drafted: ArticleEvent = {
  type: 'ArticleDrafted',
  data: { articleId: ARTICLE_ID, headline: 'Council holds taxes', body: BODY, byline: 'Rita Reporter', desk: 'Metro', by: reporter.id },
};
const quoteAdded = (quoteId = 'q1', text = 'we will not raise taxes this year', paragraph = 1, by = reporter.id): ArticleEvent => ({
  type: 'QuoteAdded',
  data: { quoteId, text, speaker: 'Jo Mayor', paragraph, by },
});
const attributed = (quoteId = 'q1', source = mayor, by = reporter.id): ArticleEvent => ({
  type: 'SourceAttributed',
  data: { quoteId, source, attribution: 'told reporters', method: 'press_briefing', by },
});
const withdrawn = (quoteId = 'q1', by = reporter.id): ArticleEvent => ({ type: 'QuoteWithdrawn', data: { quoteId, reason: 'misheard', by } });
const claimRecorded = (claimId = 'c1', quoteId: string | null = null, by = reporter.id): ArticleEvent => ({
  type: 'ClaimRecorded',
  data: { claimId, text: 'Taxes did not rise last year', quoteId, by },
});
const verdictRecorded = (claimId = 'c1'): ArticleEvent => ({
  type: 'ClaimVerdictRecorded',
  data: { claimId, verdict: 'verified', evidence: [{ url: 'https://example.org/budget', note: 'budget' }], note: null },
});
const revised = (body: string, by = reporter.id): ArticleEvent => ({ type: 'BodyRevised', data: { body, by } });
/** A BodyRevised as written before ArticleReturnedToDraft existed (upcast: `by` from its metadata). */
const legacyRevised = (body: string, returnedToDraft: boolean, by = reporter.id): ArticleEvent => ({
  type: 'BodyRevised',
  data: { body, returnedToDraft, by },
});
const returned = (from: 'in_review' | 'approved'): ArticleEvent => ({ type: 'ArticleReturnedToDraft', data: { from } });
const tagged = (slug = 'taxes', label = 'Taxes'): ArticleEvent => ({ type: 'TopicTagged', data: { slug, label } });
const submitted = (by = reporter.id): ArticleEvent => ({ type: 'ArticleSubmitted', data: { submittedBy: by } });
const approved = (by = editor.id): ArticleEvent => ({ type: 'ArticleApproved', data: { approvedBy: by } });
const published: ArticleEvent = { type: 'ArticlePublished', data: {} };
const retracted: ArticleEvent = { type: 'ArticleRetracted', data: { reason: 'fabricated quote' } };

const inReview = [drafted, submitted()];
const approvedArticle = [...inReview, approved()];
const publishedArticle = [...approvedArticle, published];
const retractedArticle = [...publishedArticle, retracted];

const spec = DeciderSpec.for(decider);

const asArticle = (state: ArticleState): Article => {
  if (state.status === 'none') throw new Error('expected an article');
  return state;
};

describe('article decider', () => {
  it('names its stream article-<id>', () => {
    expect(articleStream(ARTICLE_ID)).toBe(`article-${ARTICLE_ID}`);
  });

  it('lists every event type once', () => {
    expect(new Set(ARTICLE_EVENT_TYPES).size).toBe(16);
    expect(ARTICLE_EVENT_TYPES).toContain('ArticleReturnedToDraft');
    expect(ARTICLE_EVENT_TYPES).toContain('ClaimVerdictRecorded');
    expect(ARTICLE_EVENT_TYPES).toContain('CorrectionIssued');
  });

  describe('DraftArticle', () => {
    it('drafts a new article', () => {
      const state = spec
        .given([])
        .when(
          command('DraftArticle', {
            articleId: ARTICLE_ID,
            headline: 'Council holds taxes',
            body: BODY,
            byline: 'Rita Reporter',
            desk: 'Metro',
          }),
        )
        .then([drafted]);
      expect(state).toMatchObject({ status: 'draft', id: ARTICLE_ID, headline: 'Council holds taxes', body: BODY });
    });

    it('records a missing byline and desk as null', () => {
      spec
        .given([])
        .when(command('DraftArticle', { articleId: 'a2', headline: 'H', body: 'B' }))
        .then([{ type: 'ArticleDrafted', data: { articleId: 'a2', headline: 'H', body: 'B', byline: null, desk: null, by: reporter.id } }]);
    });

    it('refuses to draft an article that exists', () => {
      spec
        .given([drafted])
        .when(command('DraftArticle', { articleId: ARTICLE_ID, headline: 'Again', body: 'Again' }))
        .thenThrows('article-exists');
    });
  });

  const everyOtherCommand: ArticleCommand[] = [
    command('ChangeHeadline', { headline: 'New', reason: 'r' }),
    command('ReviseBody', { body: 'New body', reason: 'r' }),
    command('AddQuote', { quoteId: 'q9', text: 'council met', speaker: 'X' }),
    command('AttributeQuote', { quoteId: 'q1', source: mayor, method: 'interview' }),
    command('WithdrawQuote', { quoteId: 'q1', reason: 'r' }),
    command('TagTopic', { label: 'Budget' }),
    command('UntagTopic', { slug: 'taxes' }),
    command('RecordClaim', { claimId: 'c9', text: 'claim' }),
    command('RecordVerdict', { claimId: 'c1', verdict: 'unverifiable', evidence: [] }),
    command('SubmitArticle', {}),
    command('ApproveArticle', {}, editor),
    command('PublishArticle', {}, editor),
    command('RetractArticle', { reason: 'r' }, editor),
    command('IssueCorrection', { text: 't' }, editor),
  ];

  it.each(everyOtherCommand.map((c) => [c.type, c] as const))('%s on an undrafted article: 404', (_type, c) => {
    spec.given([]).when(c).thenThrows('article-not-found');
  });

  it.each(everyOtherCommand.map((c) => [c.type, c] as const))('%s on a retracted article: 409', (_type, c) => {
    spec
      .given([drafted, quoteAdded(), claimRecorded(), tagged(), ...retractedArticle.slice(1)])
      .when(c)
      .thenThrows('article-retracted');
  });

  describe('ChangeHeadline', () => {
    it('changes the headline of a draft without a reason', () => {
      const state = spec
        .given([drafted])
        .when(command('ChangeHeadline', { headline: 'Council freezes taxes' }))
        .then([{ type: 'HeadlineChanged', data: { headline: 'Council freezes taxes', by: reporter.id } }]);
      expect(asArticle(state).headline).toBe('Council freezes taxes');
    });

    it('keeps a reason when one is given', () => {
      spec
        .given([drafted])
        .when(command('ChangeHeadline', { headline: 'Council freezes taxes', reason: 'sharper' }))
        .then([{ type: 'HeadlineChanged', data: { headline: 'Council freezes taxes', reason: 'sharper', by: reporter.id } }]);
    });

    it('does nothing when the headline is identical', () => {
      spec.given([drafted]).when(command('ChangeHeadline', { headline: 'Council holds taxes' })).thenNothingHappened();
    });

    it('requires a reason once published', () => {
      spec
        .given(publishedArticle)
        .when(command('ChangeHeadline', { headline: 'Council freezes taxes' }, editor))
        .thenThrows('reason-required');
    });

    it('treats a blank reason, or one of invisible characters only, as missing once published', () => {
      for (const reason of ['   ', '\u200b', '\u200b\ufeff \u2060']) {
        spec
          .given(publishedArticle)
          .when(command('ChangeHeadline', { headline: 'Council freezes taxes', reason }, editor))
          .thenThrows('reason-required');
      }
    });

    it('changes a published headline with a reason and stays published', () => {
      const state = spec
        .given(publishedArticle)
        .when(command('ChangeHeadline', { headline: 'Council freezes taxes', reason: 'typo' }, editor))
        .then([{ type: 'HeadlineChanged', data: { headline: 'Council freezes taxes', reason: 'typo', by: editor.id } }]);
      expect(state.status).toBe('published');
    });
  });

  describe('ReviseBody', () => {
    const newBody = `${BODY}\n\nA fourth paragraph.`;

    it('revises a draft body without returning it to draft', () => {
      const state = spec
        .given([drafted])
        .when(command('ReviseBody', { body: newBody }))
        .then([{ type: 'BodyRevised', data: { body: newBody, by: reporter.id } }]);
      expect(asArticle(state)).toMatchObject({ status: 'draft', body: newBody });
    });

    it('does nothing when the body is identical', () => {
      spec.given([drafted]).when(command('ReviseBody', { body: BODY })).thenNothingHappened();
    });

    it('sends an article in review back to draft and forgets the submitter', () => {
      const state = spec
        .given(inReview)
        .when(command('ReviseBody', { body: newBody }))
        .then([{ type: 'BodyRevised', data: { body: newBody, by: reporter.id } }, returned('in_review')]);
      expect(asArticle(state)).toMatchObject({ status: 'draft', submittedBy: null });
    });

    it('sends an approved article back to draft', () => {
      const state = spec
        .given(approvedArticle)
        .when(command('ReviseBody', { body: newBody, reason: 'late news' }))
        .then([{ type: 'BodyRevised', data: { body: newBody, reason: 'late news', by: reporter.id } }, returned('approved')]);
      expect(state.status).toBe('draft');
    });

    it('still folds a stored BodyRevised with returnedToDraft as before: back to draft, submitter forgotten', () => {
      expect(asArticle(spec.given([...approvedArticle, legacyRevised(newBody, true)]).state())).toMatchObject({ status: 'draft', submittedBy: null, body: newBody });
      expect(asArticle(spec.given([...publishedArticle, legacyRevised(newBody, false)]).state())).toMatchObject({ status: 'published', body: newBody });
    });

    it('requires a reason once published', () => {
      spec.given(publishedArticle).when(command('ReviseBody', { body: newBody }, editor)).thenThrows('reason-required');
    });

    it('revises a published body with a reason and stays published', () => {
      const state = spec
        .given(publishedArticle)
        .when(command('ReviseBody', { body: newBody, reason: 'update' }, editor))
        .then([{ type: 'BodyRevised', data: { body: newBody, reason: 'update', by: editor.id } }]);
      expect(state.status).toBe('published');
    });

    it('marks a quote out of the body when it is cut and back in when restored, tracking its paragraph', () => {
      const cut = 'The council met on Tuesday.\n\nCritics called it a stunt.';
      const afterCut = asArticle(spec.given([drafted, quoteAdded(), revised(cut)]).state());
      expect(afterCut.quotes.q1).toMatchObject({ inBody: false, paragraph: 1 });

      const moved = 'Intro.\n\nMore.\n\nThe mayor said “we will not raise\ntaxes this year” again.';
      const afterRestore = asArticle(spec.given([drafted, quoteAdded(), revised(cut), revised(moved)]).state());
      expect(afterRestore.quotes.q1).toMatchObject({ inBody: true, paragraph: 2 });
    });

    it('leaves withdrawn quotes as they were', () => {
      const state = asArticle(spec.given([drafted, quoteAdded(), withdrawn(), revised('Nothing left.')]).state());
      expect(state.quotes.q1).toMatchObject({ status: 'withdrawn', inBody: true, paragraph: 1 });
    });
  });

  describe('AddQuote', () => {
    it('adds a quote found in the body and records its paragraph', () => {
      const state = spec
        .given([drafted])
        .when(command('AddQuote', { quoteId: 'q1', text: 'we will not raise taxes this year', speaker: 'Jo Mayor' }))
        .then([quoteAdded()]);
      expect(asArticle(state).quotes.q1).toEqual({
        id: 'q1',
        text: 'we will not raise taxes this year',
        speaker: 'Jo Mayor',
        paragraph: 1,
        status: 'unattributed',
        inBody: true,
        source: null,
        attribution: null,
        method: null,
        withdrawnReason: null,
      });
      expect(asArticle(state).quoteOrder).toEqual(['q1']);
    });

    it('matches with whitespace and line breaks collapsed', () => {
      const text = 'we  will\nnot raise\u00a0taxes';
      spec
        .given([drafted])
        .when(command('AddQuote', { quoteId: 'q1', text, speaker: 'Jo Mayor' }))
        .then([{ type: 'QuoteAdded', data: { quoteId: 'q1', text, speaker: 'Jo Mayor', paragraph: 1, by: reporter.id } }]);
    });

    it('matches typographic characters exactly', () => {
      const text = 'a stunt — a cheap one…';
      spec
        .given([drafted])
        .when(command('AddQuote', { quoteId: 'q2', text, speaker: 'Al Critic' }))
        .then([{ type: 'QuoteAdded', data: { quoteId: 'q2', text, speaker: 'Al Critic', paragraph: 2, by: reporter.id } }]);
    });

    it('does not match straight punctuation against typographic punctuation', () => {
      spec
        .given([drafted])
        .when(command('AddQuote', { quoteId: 'q2', text: 'a stunt - a cheap one...', speaker: 'Al Critic' }))
        .thenThrows('quote-not-in-body');
      spec
        .given([drafted])
        .when(command('AddQuote', { quoteId: 'q3', text: '"we will not raise taxes this year"', speaker: 'Jo Mayor' }))
        .thenThrows('quote-not-in-body');
    });

    it('records the paragraph where a quote spanning paragraphs starts', () => {
      const text = 'and left. Critics called it';
      spec
        .given([drafted])
        .when(command('AddQuote', { quoteId: 'q4', text, speaker: 'Jo Mayor' }))
        .then([{ type: 'QuoteAdded', data: { quoteId: 'q4', text, speaker: 'Jo Mayor', paragraph: 1, by: reporter.id } }]);
    });

    it('refuses a quote that is not in the body', () => {
      spec
        .given([drafted])
        .when(command('AddQuote', { quoteId: 'q1', text: 'we will raise taxes', speaker: 'Jo Mayor' }))
        .thenThrows('quote-not-in-body');
    });

    it('checks against the current body, not the drafted one', () => {
      spec
        .given([drafted, revised('Entirely new copy.')])
        .when(command('AddQuote', { quoteId: 'q1', text: 'we will not raise taxes', speaker: 'Jo Mayor' }))
        .thenThrows('quote-not-in-body');
    });

    it('refuses a quote id already used', () => {
      spec
        .given([drafted, quoteAdded()])
        .when(command('AddQuote', { quoteId: 'q1', text: 'The council met', speaker: 'X' }))
        .thenThrows('quote-exists');
    });
  });

  describe('AttributeQuote', () => {
    it('attributes a quote to a registered source', () => {
      const state = spec
        .given([drafted, quoteAdded()])
        .when(
          command('AttributeQuote', {
            quoteId: 'q1',
            source: mayor,
            attribution: 'told reporters',
            method: 'press_briefing',
          }),
        )
        .then([attributed()]);
      expect(asArticle(state).quotes.q1).toMatchObject({
        status: 'attributed',
        source: mayor,
        attribution: 'told reporters',
        method: 'press_briefing',
      });
    });

    it('records a missing attribution as null', () => {
      spec
        .given([drafted, quoteAdded()])
        .when(command('AttributeQuote', { quoteId: 'q1', source: mayor, method: 'interview' }))
        .then([{ type: 'SourceAttributed', data: { quoteId: 'q1', source: mayor, attribution: null, method: 'interview', by: reporter.id } }]);
    });

    it('re-attributes to another source', () => {
      const state = spec
        .given([drafted, quoteAdded(), attributed()])
        .when(command('AttributeQuote', { quoteId: 'q1', source: critic, attribution: 'told reporters', method: 'press_briefing' }))
        .then([attributed('q1', critic)]);
      expect(asArticle(state).quotes.q1.source).toEqual(critic);
    });

    it('re-attributes when only the method changes', () => {
      spec
        .given([drafted, quoteAdded(), attributed()])
        .when(command('AttributeQuote', { quoteId: 'q1', source: mayor, attribution: 'told reporters', method: 'statement' }))
        .then([
          {
            type: 'SourceAttributed',
            data: { quoteId: 'q1', source: mayor, attribution: 'told reporters', method: 'statement', by: reporter.id },
          },
        ]);
    });

    it('does nothing when source, attribution and method are unchanged', () => {
      spec
        .given([drafted, quoteAdded(), attributed()])
        .when(
          command('AttributeQuote', {
            quoteId: 'q1',
            source: { ...mayor, title: 'Former mayor' },
            attribution: 'told reporters',
            method: 'press_briefing',
          }),
        )
        .thenNothingHappened();
    });

    it('refuses an unknown quote', () => {
      spec
        .given([drafted])
        .when(command('AttributeQuote', { quoteId: 'nope', source: mayor, method: 'interview' }))
        .thenThrows('quote-not-found');
    });

    it('refuses a source that is not registered', () => {
      spec
        .given([drafted, quoteAdded()])
        .when(command('AttributeQuote', { quoteId: 'q1', source: null, method: 'interview' }))
        .thenThrows('unknown-source');
    });

    it('refuses a withdrawn quote', () => {
      spec
        .given([drafted, quoteAdded(), withdrawn()])
        .when(command('AttributeQuote', { quoteId: 'q1', source: mayor, method: 'interview' }))
        .thenThrows('quote-withdrawn');
    });
  });

  describe('WithdrawQuote', () => {
    it('withdraws a quote with its reason', () => {
      const state = spec
        .given([drafted, quoteAdded()])
        .when(command('WithdrawQuote', { quoteId: 'q1', reason: 'misheard' }))
        .then([withdrawn()]);
      expect(asArticle(state).quotes.q1).toMatchObject({ status: 'withdrawn', withdrawnReason: 'misheard' });
    });

    it('refuses an unknown quote', () => {
      spec
        .given([drafted])
        .when(command('WithdrawQuote', { quoteId: 'q1', reason: 'r' }))
        .thenThrows('quote-not-found');
    });

    it('refuses a quote already withdrawn', () => {
      spec
        .given([drafted, quoteAdded(), withdrawn()])
        .when(command('WithdrawQuote', { quoteId: 'q1', reason: 'again' }))
        .thenThrows('quote-withdrawn');
    });
  });

  describe('TagTopic', () => {
    it('tags a topic by its slug and keeps the label', () => {
      const state = spec
        .given([drafted])
        .when(command('TagTopic', { label: '  Climate   Change ' }))
        .then([{ type: 'TopicTagged', data: { slug: 'climate-change', label: 'Climate Change' } }]);
      expect(asArticle(state).topics).toEqual([{ slug: 'climate-change', label: 'Climate Change' }]);
    });

    it('keeps topics in the order they were tagged, numeric slugs included', () => {
      const state = asArticle(spec.given([drafted, tagged('taxes', 'Taxes'), tagged('2024', '2024')]).state());
      expect(state.topics.map((t) => t.slug)).toEqual(['taxes', '2024']);
    });

    it('does nothing when a label with the same slug is already tagged', () => {
      spec.given([drafted, tagged()]).when(command('TagTopic', { label: 'TAXES!' })).thenNothingHappened();
    });

    it('refuses a label without letters or digits', () => {
      spec.given([drafted]).when(command('TagTopic', { label: ' — / ' })).thenThrows('invalid-topic');
    });
  });

  describe('UntagTopic', () => {
    it('removes a tagged topic', () => {
      const state = spec
        .given([drafted, tagged(), tagged('budget', 'Budget')])
        .when(command('UntagTopic', { slug: 'taxes' }))
        .then([{ type: 'TopicUntagged', data: { slug: 'taxes' } }]);
      expect(asArticle(state).topics).toEqual([{ slug: 'budget', label: 'Budget' }]);
    });

    it('refuses a topic that is not tagged', () => {
      spec.given([drafted, tagged()]).when(command('UntagTopic', { slug: 'budget' })).thenThrows('topic-not-tagged');
    });
  });

  describe('RecordClaim', () => {
    it('records a claim without a quote', () => {
      const state = spec
        .given([drafted])
        .when(command('RecordClaim', { claimId: 'c1', text: 'Taxes did not rise last year' }, checker))
        .then([claimRecorded('c1', null, checker.id)]);
      expect(asArticle(state).claims.c1).toEqual({
        id: 'c1',
        text: 'Taxes did not rise last year',
        quoteId: null,
        verdicts: [],
      });
    });

    it('records a claim tied to a quote', () => {
      spec
        .given([drafted, quoteAdded()])
        .when(command('RecordClaim', { claimId: 'c1', text: 'Taxes did not rise last year', quoteId: 'q1' }))
        .then([claimRecorded('c1', 'q1')]);
    });

    it('refuses a claim id already used', () => {
      spec
        .given([drafted, claimRecorded()])
        .when(command('RecordClaim', { claimId: 'c1', text: 'other' }))
        .thenThrows('claim-exists');
    });

    it('refuses an unknown quote', () => {
      spec
        .given([drafted])
        .when(command('RecordClaim', { claimId: 'c1', text: 'x', quoteId: 'q-missing' }))
        .thenThrows('unknown-quote');
    });
  });

  describe('RecordVerdict', () => {
    const evidence = [{ url: 'https://example.org/budget', note: 'budget' }];

    it('records a verdict with evidence', () => {
      spec
        .given([drafted, claimRecorded()])
        .when(command('RecordVerdict', { claimId: 'c1', verdict: 'verified', evidence }, checker))
        .then([verdictRecorded()]);
    });

    it('accepts an unverifiable verdict without evidence', () => {
      spec
        .given([drafted, claimRecorded()])
        .when(command('RecordVerdict', { claimId: 'c1', verdict: 'unverifiable', evidence: [], note: 'no records' }, checker))
        .then([
          { type: 'ClaimVerdictRecorded', data: { claimId: 'c1', verdict: 'unverifiable', evidence: [], note: 'no records' } },
        ]);
    });

    it.each(['verified', 'false', 'misleading'] as const)('refuses a %s verdict without evidence', (verdict) => {
      spec
        .given([drafted, claimRecorded()])
        .when(command('RecordVerdict', { claimId: 'c1', verdict, evidence: [] }, checker))
        .thenThrows('evidence-required');
    });

    it('refuses an unknown claim', () => {
      spec
        .given([drafted])
        .when(command('RecordVerdict', { claimId: 'c1', verdict: 'verified', evidence }, checker))
        .thenThrows('claim-not-found');
    });

    it('lets a later verdict supersede while keeping the history', () => {
      const state = spec
        .given([drafted, claimRecorded(), verdictRecorded()])
        .when(command('RecordVerdict', { claimId: 'c1', verdict: 'misleading', evidence, note: 'context' }, checker))
        .then([{ type: 'ClaimVerdictRecorded', data: { claimId: 'c1', verdict: 'misleading', evidence, note: 'context' } }]);
      expect(asArticle(state).claims.c1.verdicts.map((v) => v.verdict)).toEqual(['verified', 'misleading']);
    });
  });

  describe('SubmitArticle', () => {
    it('moves a draft into review and remembers who submitted it', () => {
      const state = spec.given([drafted]).when(command('SubmitArticle', {})).then([submitted()]);
      expect(asArticle(state)).toMatchObject({ status: 'in_review', submittedBy: reporter.id });
    });

    it.each([
      ['in_review', inReview],
      ['approved', approvedArticle],
      ['published', publishedArticle],
    ])('refuses to submit a %s article', (status, given) => {
      const error = spec.given(given).when(command('SubmitArticle', {})).thenThrows('invalid-transition');
      expect(error.message).toContain(status);
      expect(error.message).toContain('in_review');
      expect(error.extra).toEqual({ from: status, to: 'in_review' });
    });
  });

  describe('ApproveArticle', () => {
    it('lets another editor approve', () => {
      const state = spec.given(inReview).when(command('ApproveArticle', {}, editor)).then([approved()]);
      expect(state.status).toBe('approved');
    });

    it('refuses the submitter approving their own article', () => {
      spec
        .given([drafted, submitted(editor.id)])
        .when(command('ApproveArticle', {}, editor))
        .thenThrows('four-eyes');
    });

    it('applies four eyes to the latest submission', () => {
      const resubmitted = [...inReview, legacyRevised('New copy.', true), submitted(editor.id)];
      spec.given(resubmitted).when(command('ApproveArticle', {}, editor)).thenThrows('four-eyes');
      spec.given(resubmitted).when(command('ApproveArticle', {}, otherEditor)).then([approved(otherEditor.id)]);
    });

    it('refuses to approve a draft', () => {
      const error = spec.given([drafted]).when(command('ApproveArticle', {}, editor)).thenThrows('invalid-transition');
      expect(error.extra).toEqual({ from: 'draft', to: 'approved' });
    });

    it('refuses to approve an approved article', () => {
      spec.given(approvedArticle).when(command('ApproveArticle', {}, otherEditor)).thenThrows('invalid-transition');
    });
  });

  describe('PublishArticle', () => {
    const publish = command('PublishArticle', {}, editor);

    it('publishes an approved article with attributed quotes and checked claims', () => {
      const state = spec
        .given([drafted, quoteAdded(), attributed(), claimRecorded(), verdictRecorded(), submitted(), approved()])
        .when(publish)
        .then([published]);
      expect(asArticle(state)).toMatchObject({ status: 'published', publishedOnce: true });
    });

    it.each([
      ['draft', [drafted]],
      ['in_review', inReview],
      ['published', publishedArticle],
    ])('refuses to publish a %s article', (status, given) => {
      const error = spec.given(given).when(publish).thenThrows('invalid-transition');
      expect(error.extra).toEqual({ from: status, to: 'published' });
    });

    it('is blocked by an unattributed quote', () => {
      const error = spec
        .given([drafted, quoteAdded(), submitted(), approved()])
        .when(publish)
        .thenThrows('publish-blocked');
      expect(error.extra.blockers).toEqual([
        { kind: 'quote-unattributed', quoteId: 'q1', message: expect.any(String) },
      ]);
    });

    it('is blocked by a quote no longer in the body', () => {
      const error = spec
        .given([drafted, quoteAdded(), attributed(), revised('Rewritten entirely.'), submitted(), approved()])
        .when(publish)
        .thenThrows('publish-blocked');
      expect(error.extra.blockers).toEqual([{ kind: 'quote-not-in-body', quoteId: 'q1', message: expect.any(String) }]);
    });

    it('is blocked by a claim without a verdict', () => {
      const error = spec
        .given([drafted, claimRecorded(), submitted(), approved()])
        .when(publish)
        .thenThrows('publish-blocked');
      expect(error.extra.blockers).toEqual([{ kind: 'claim-unverified', claimId: 'c1', message: expect.any(String) }]);
    });

    it('is not blocked by withdrawn quotes, even unattributed or cut ones', () => {
      spec
        .given([
          drafted,
          quoteAdded('q1'),
          quoteAdded('q2', 'The council met', 0),
          revised('Rewritten entirely.'),
          withdrawn('q1'),
          withdrawn('q2'),
          submitted(),
          approved(),
        ])
        .when(publish)
        .then([published]);
    });

    it('is not blocked by an unverifiable verdict', () => {
      spec
        .given([
          drafted,
          claimRecorded(),
          { type: 'ClaimVerdictRecorded', data: { claimId: 'c1', verdict: 'unverifiable', evidence: [], note: null } },
          submitted(),
          approved(),
        ])
        .when(publish)
        .then([published]);
    });

    it('lists every blocker, each with a message', () => {
      const error = spec
        .given([
          drafted,
          quoteAdded('q1'),
          quoteAdded('q2', 'The council met', 0),
          attributed('q2'),
          revised('The council met on Tuesday.'),
          claimRecorded('c1'),
          claimRecorded('c2'),
          verdictRecorded('c2'),
          submitted(),
          approved(),
        ])
        .when(publish)
        .thenThrows('publish-blocked');
      const blockers = error.extra.blockers as { kind: string; message: string }[];
      expect(blockers.map(({ message: _m, ...rest }) => rest)).toEqual([
        { kind: 'quote-unattributed', quoteId: 'q1' },
        { kind: 'quote-not-in-body', quoteId: 'q1' },
        { kind: 'claim-unverified', claimId: 'c1' },
      ]);
      for (const b of blockers) expect(b.message.length).toBeGreaterThan(0);
      expect(error.message).toContain('q1');
    });
  });

  describe('RetractArticle', () => {
    it('retracts a published article', () => {
      const state = spec
        .given(publishedArticle)
        .when(command('RetractArticle', { reason: 'fabricated quote' }, editor))
        .then([retracted]);
      expect(asArticle(state)).toMatchObject({
        status: 'retracted',
        retractionReason: 'fabricated quote',
        publishedOnce: true,
      });
    });

    it('refuses to retract an article that is not published', () => {
      const error = spec
        .given(approvedArticle)
        .when(command('RetractArticle', { reason: 'r' }, editor))
        .thenThrows('invalid-transition');
      expect(error.extra).toEqual({ from: 'approved', to: 'retracted' });
    });
  });

  describe('IssueCorrection', () => {
    it('issues a correction on a published article', () => {
      const state = spec
        .given(publishedArticle)
        .when(command('IssueCorrection', { text: 'An earlier version misspelled the mayor.' }, editor))
        .then([{ type: 'CorrectionIssued', data: { text: 'An earlier version misspelled the mayor.' } }]);
      expect(asArticle(state).corrections).toEqual([{ text: 'An earlier version misspelled the mayor.' }]);
    });

    it('refuses a correction before publication', () => {
      const error = spec
        .given(approvedArticle)
        .when(command('IssueCorrection', { text: 't' }, editor))
        .thenThrows('invalid-transition');
      expect(error.message).toContain('approved');
    });
  });

  describe('review integrity', () => {
    /** Each content command, stated by `actor`, with the content event it decides on the fixture below. */
    const fixture = [drafted, quoteAdded(), attributed(), claimRecorded(), verdictRecorded()];
    const newBody = `${BODY}\n\nA fourth paragraph.`;
    const contentChanges: [string, (actor: Actor) => ArticleCommand, (by: string) => ArticleEvent][] = [
      [
        'ChangeHeadline',
        (a) => command('ChangeHeadline', { headline: 'Council freezes taxes', reason: 'sharper' }, a),
        (by) => ({ type: 'HeadlineChanged', data: { headline: 'Council freezes taxes', reason: 'sharper', by } }),
      ],
      ['ReviseBody', (a) => command('ReviseBody', { body: newBody, reason: 'more' }, a), (by) => ({ type: 'BodyRevised', data: { body: newBody, reason: 'more', by } })],
      [
        'AddQuote',
        (a) => command('AddQuote', { quoteId: 'q2', text: 'The council met', speaker: 'Clerk' }, a),
        (by) => ({ type: 'QuoteAdded', data: { quoteId: 'q2', text: 'The council met', speaker: 'Clerk', paragraph: 0, by } }),
      ],
      [
        'AttributeQuote',
        (a) => command('AttributeQuote', { quoteId: 'q1', source: critic, attribution: 'told reporters', method: 'press_briefing', reason: 'misattributed' }, a),
        (by) => ({ type: 'SourceAttributed', data: { quoteId: 'q1', source: critic, attribution: 'told reporters', method: 'press_briefing', reason: 'misattributed', by } }),
      ],
      ['WithdrawQuote', (a) => command('WithdrawQuote', { quoteId: 'q1', reason: 'misheard' }, a), (by) => withdrawn('q1', by)],
      [
        'RecordClaim',
        (a) => command('RecordClaim', { claimId: 'c2', text: 'Taxes are low' }, a),
        (by) => ({ type: 'ClaimRecorded', data: { claimId: 'c2', text: 'Taxes are low', quoteId: null, by } }),
      ],
    ];

    describe.each([
      ['in_review', [...fixture, submitted()]],
      ['approved', [...fixture, submitted(), approved()]],
    ] as const)('a content change to an %s article', (status, given) => {
      it.each(contentChanges)('%s sends it back to draft: the change, then ArticleReturnedToDraft', (_type, make, expected) => {
        const state = spec
          .given([...given])
          .when(make(reporter))
          .then([expected(reporter.id), returned(status)]);
        expect(asArticle(state)).toMatchObject({ status: 'draft', submittedBy: null });
      });

      it('cannot then be published without a new review', () => {
        const events = [...given, { type: 'HeadlineChanged' as const, data: { headline: 'Changed', by: reporter.id } }, returned(status)];
        spec.given(events).when(command('PublishArticle', {}, editor)).thenThrows('invalid-transition');
        spec.given(events).when(command('ApproveArticle', {}, otherEditor)).thenThrows('invalid-transition');
      });

      it.each([
        ['TagTopic', command('TagTopic', { label: 'Budget' }), { type: 'TopicTagged', data: { slug: 'budget', label: 'Budget' } }],
        ['UntagTopic', command('UntagTopic', { slug: 'taxes' }), { type: 'TopicUntagged', data: { slug: 'taxes' } }],
        [
          'RecordVerdict',
          command('RecordVerdict', { claimId: 'c1', verdict: 'misleading', evidence: [{ note: 'context' }] }, checker),
          { type: 'ClaimVerdictRecorded', data: { claimId: 'c1', verdict: 'misleading', evidence: [{ note: 'context' }], note: null } },
        ],
      ] as [string, ArticleCommand, ArticleEvent][])('%s is not a content change: the article stays %s', (_type, c, expected) => {
        const state = spec
          .given([...given.slice(0, -1), tagged(), given[given.length - 1]])
          .when(c)
          .then([expected]);
        expect(state.status).toBe(status);
      });
    });

    describe('a change to a published article', () => {
      const published = [...fixture, submitted(), approved(), { type: 'ArticlePublished' as const, data: {} }];

      it.each(contentChanges)('%s by a reporter is refused: 403 forbidden', (_type, make) => {
        spec.given(published).when(make(reporter)).thenThrows('forbidden');
      });

      it('a claim by a fact checker is refused too: only an editor changes live copy', () => {
        spec.given(published).when(contentChanges[5][1](checker)).thenThrows('forbidden');
      });

      it.each(contentChanges.filter(([type]) => !['AddQuote', 'RecordClaim'].includes(type)))('%s by an editor with a reason is made; it stays published', (_type, make, expected) => {
        const state = spec.given(published).when(make(editor)).then([expected(editor.id)]);
        expect(state.status).toBe('published');
      });

      it.each([
        ['ChangeHeadline', command('ChangeHeadline', { headline: 'Council freezes taxes' }, editor)],
        ['ReviseBody', command('ReviseBody', { body: newBody }, editor)],
        ['AttributeQuote', command('AttributeQuote', { quoteId: 'q1', source: critic, method: 'interview' }, editor)],
        ['ReviseBody with a blank reason', command('ReviseBody', { body: newBody, reason: '  ' }, editor)],
      ])('%s without a reason is refused: 422 reason-required', (_type, c) => {
        spec.given(published).when(c).thenThrows('reason-required');
      });

      it('a body that drops an attributed live quote is refused: 409 publish-blocked naming the quote', () => {
        const error = spec
          .given(published)
          .when(command('ReviseBody', { body: 'The council met on Tuesday.', reason: 'typo' }, editor))
          .thenThrows('publish-blocked');
        expect(error.extra.blockers).toEqual([{ kind: 'quote-not-in-body', quoteId: 'q1', message: expect.any(String) }]);
      });

      it('is refused as publish-blocked before a missing reason is mentioned: no reason could make it pass', () => {
        spec.given(published).when(command('ReviseBody', { body: 'The council met on Tuesday.' }, editor)).thenThrows('publish-blocked');
      });

      it('a new quote would be live unattributed, a new claim live unchecked: 409 publish-blocked', () => {
        const quote = spec.given(published).when(contentChanges[2][1](editor)).thenThrows('publish-blocked');
        expect(quote.extra.blockers).toEqual([{ kind: 'quote-unattributed', quoteId: 'q2', message: expect.any(String) }]);
        const claim = spec.given(published).when(contentChanges[5][1](editor)).thenThrows('publish-blocked');
        expect(claim.extra.blockers).toEqual([{ kind: 'claim-unverified', claimId: 'c2', message: expect.any(String) }]);
      });

      it('takes a quote out of live copy by withdrawing it first, then revising the body', () => {
        const cut = 'The council met on Tuesday.';
        const withdrawal = withdrawn('q1', editor.id);
        spec.given(published).when(command('WithdrawQuote', { quoteId: 'q1', reason: 'misheard' }, editor)).then([withdrawal]);
        const state = spec
          .given([...published, withdrawal])
          .when(command('ReviseBody', { body: cut, reason: 'quote withdrawn' }, editor))
          .then([{ type: 'BodyRevised', data: { body: cut, reason: 'quote withdrawn', by: editor.id } }]);
        expect(asArticle(state)).toMatchObject({ status: 'published', body: cut });
      });

      it('a blocker the article already had (written before the rule) does not stop other changes', () => {
        const broken = [...published, legacyRevised('The council met on Tuesday.', false)];
        spec
          .given(broken)
          .when(command('ChangeHeadline', { headline: 'Council meets', reason: 'accuracy' }, editor))
          .then([{ type: 'HeadlineChanged', data: { headline: 'Council meets', reason: 'accuracy', by: editor.id } }]);
      });

      it('metadata and review evidence are not content: a reporter tags, a fact checker records a verdict, without a reason', () => {
        spec.given(published).when(command('TagTopic', { label: 'Budget' })).then([{ type: 'TopicTagged', data: { slug: 'budget', label: 'Budget' } }]);
        spec
          .given(published)
          .when(command('RecordVerdict', { claimId: 'c1', verdict: 'unverifiable', evidence: [] }, checker))
          .then([{ type: 'ClaimVerdictRecorded', data: { claimId: 'c1', verdict: 'unverifiable', evidence: [], note: null } }]);
      });

      it('a change that changes nothing is no change: nothing refused, nothing decided', () => {
        spec.given(published).when(command('ChangeHeadline', { headline: 'Council holds taxes' })).thenNothingHappened();
      });
    });

    describe('four eyes: nobody who wrote the content under review approves it', () => {
      const editorAsWriter: [string, ArticleEvent[]][] = [
        ['drafted it', [{ ...drafted, data: { ...(drafted.data as object), by: editor.id } } as ArticleEvent, submitted()]],
        ['changed its headline in draft', [drafted, { type: 'HeadlineChanged', data: { headline: 'H', by: editor.id } }, submitted()]],
        ['added a quote', [drafted, quoteAdded('q1', undefined, undefined, editor.id), submitted()]],
        ['attributed a quote', [drafted, quoteAdded(), attributed('q1', mayor, editor.id), submitted()]],
        ['withdrew a quote', [drafted, quoteAdded(), withdrawn('q1', editor.id), submitted()]],
        ['recorded a claim', [drafted, claimRecorded('c1', null, editor.id), verdictRecorded(), submitted()]],
        ['revised the body during review, which sent it back, before it was submitted again', [...inReview, revised('New copy.', editor.id), returned('in_review'), submitted()]],
        ['revised the body before a submission that was later withdrawn into draft', [drafted, revised('New copy.', editor.id), submitted(), legacyRevised('Newer.', true), submitted()]],
      ];

      it.each(editorAsWriter)('an editor who %s: 403 four-eyes; another editor may approve', (_how, given) => {
        const error = spec.given(given).when(command('ApproveArticle', {}, editor)).thenThrows('four-eyes');
        expect(error.message).toMatch(/drafted|changed/);
        spec.given(given).when(command('ApproveArticle', {}, otherEditor)).then([approved(otherEditor.id)]);
      });

      it('tracks every writer once, in the order they first wrote', () => {
        const state = asArticle(
          spec.given([drafted, quoteAdded('q1', undefined, undefined, editor.id), revised('x', reporter.id), claimRecorded('c1', null, checker.id), tagged()]).state(),
        );
        expect(state.writers).toEqual([reporter.id, editor.id, checker.id]);
      });

      it('a verdict or a topic does not make its author a writer', () => {
        const editorChecker: Actor = { id: 'u-ec', name: 'Ed Checker', roles: ['editor', 'fact_checker'] };
        const given: ArticleEvent[] = [drafted, claimRecorded(), verdictRecorded(), tagged(), submitted()];
        expect(asArticle(spec.given(given).state()).writers).toEqual([reporter.id]);
        spec.given(given).when(command('ApproveArticle', {}, editorChecker)).then([approved(editorChecker.id)]);
      });
    });
  });

  describe('state', () => {
    it('starts as none', () => {
      expect(decider.initialState()).toEqual({ status: 'none' });
    });

    it('survives a JSON round trip', () => {
      const state = spec
        .given([
          drafted,
          quoteAdded(),
          attributed(),
          tagged(),
          claimRecorded('c1', 'q1'),
          verdictRecorded(),
          ...publishedArticle.slice(1),
          { type: 'CorrectionIssued', data: { text: 'fix' } },
        ])
        .state();
      expect(JSON.parse(JSON.stringify(state))).toEqual(state);
      expect(asArticle(state)).toMatchObject({
        status: 'published',
        quoteOrder: ['q1'],
        claimOrder: ['c1'],
        topics: [{ slug: 'taxes', label: 'Taxes' }],
        corrections: [{ text: 'fix' }],
        submittedBy: reporter.id,
      });
    });

    it('does not change the state it folds from', () => {
      const before = spec.given([drafted, quoteAdded()]).state();
      const snapshot = JSON.parse(JSON.stringify(before));
      decider.evolve(before, attributed());
      decider.evolve(before, revised('other'));
      expect(before).toEqual(snapshot);
    });
  });
});
