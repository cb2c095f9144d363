import { randomUUID } from 'node:crypto';
import { EventStore } from '../../src/event-store/event-store';
import { uuidV5 } from '../../src/newsroom/ids';
import { Actor } from '../../src/newsroom/actor';
import { WriteResult } from '../../src/newsroom/command-context';
import { CommandExecutor } from '../../src/newsroom/command-executor';
import { ArticleIntent, ExecuteArticleCommand } from '../../src/newsroom/article/article-command';
import { ArticleCommandHandler } from '../../src/newsroom/article/article-command.handler';
import { ExecuteSourceCommand } from '../../src/newsroom/source/source-command';
import { SourceCommandHandler } from '../../src/newsroom/source/source-command.handler';

export const REPORTER: Actor = { id: 'reporter-1', name: 'Rita Reporter', roles: ['reporter'] };
export const EDITOR: Actor = { id: 'editor-1', name: 'Ed Editor', roles: ['editor'] };
export const CHECKER: Actor = { id: 'checker-1', name: 'Fay Checker', roles: ['fact_checker'] };

/**
 * Writes through the real command handlers (load, decide, append) straight to an event store, with
 * a clock that moves a minute a command: realistic event streams without HTTP.
 */
export class Newsroom {
  private readonly articles: ArticleCommandHandler;
  private readonly sources: SourceCommandHandler;
  private clock = Date.UTC(2024, 4, 1, 8, 0, 0);
  private seed = 0;

  constructor(store: EventStore) {
    const executor = new CommandExecutor(store);
    this.articles = new ArticleCommandHandler(executor);
    this.sources = new SourceCommandHandler(executor);
  }

  private context(actor: Actor) {
    this.clock += 60_000;
    const commandId = randomUUID();
    // As HTTP without an Idempotency-Key: a random id names no earlier attempt, so none is looked up.
    return { actor, commandId, freshCommandId: true, correlationId: commandId, causationId: commandId, now: new Date(this.clock).toISOString() };
  }

  /** A deterministic id, so that two runs of one scenario name the same things. */
  id(label: string): string {
    return uuidV5(`newsroom-fixture\n${label}\n${this.seed}`);
  }

  article(id: string, intent: ArticleIntent, actor: Actor = REPORTER): Promise<WriteResult> {
    return this.articles.execute(new ExecuteArticleCommand(id, intent, this.context(actor)));
  }

  source(id: string, intent: ExecuteSourceCommand['intent'], actor: Actor = REPORTER): Promise<WriteResult> {
    return this.sources.execute(new ExecuteSourceCommand(id, intent, this.context(actor)));
  }
}

export interface Scenario {
  articleIds: string[];
  sourceIds: string[];
  last: WriteResult;
}

/**
 * Every kind of event, several times over: sources registered and updated; articles drafted,
 * re-headlined, revised (one quote falls out of the body), quoted, attributed and re-attributed,
 * withdrawn, tagged and untagged, claimed and checked twice, taken through review to publication,
 * corrected and (one) retracted.
 */
export async function writeScenario(newsroom: Newsroom, articles = 3, prefix = 'a'): Promise<Scenario> {
  const jane = newsroom.id(`${prefix}-source-jane`);
  const city = newsroom.id(`${prefix}-source-city`);
  await newsroom.source(jane, { type: 'RegisterSource', data: { sourceId: jane, name: 'Jane Doe', kind: 'person', title: 'Engineer', organization: null } });
  await newsroom.source(city, { type: 'RegisterSource', data: { sourceId: city, name: 'City Hall', kind: 'organization', title: null, organization: null } });
  await newsroom.source(jane, { type: 'UpdateSource', data: { organization: 'Bridge Works' } });
  const articleIds: string[] = [];
  let last!: WriteResult;
  for (let i = 0; i < articles; i++) {
    const id = newsroom.id(`${prefix}-article-${i}`);
    articleIds.push(id);
    const q1 = newsroom.id(`${prefix}-quote-${i}-1`);
    const q2 = newsroom.id(`${prefix}-quote-${i}-2`);
    const c1 = newsroom.id(`${prefix}-claim-${i}-1`);
    const body = `The bridge reopened on Monday ${i}.\n\n"It is safe," said Jane Doe.\n\nThe council voted "unanimously for repairs".`;
    await newsroom.article(id, { type: 'DraftArticle', data: { articleId: id, headline: `Bridge ${i} reopens`, body, byline: 'A. Reporter', desk: i % 2 ? 'Metro' : 'City' } });
    await newsroom.article(id, { type: 'AddQuote', data: { quoteId: q1, text: 'It is safe,', speaker: 'Jane Doe' } });
    await newsroom.article(id, { type: 'AddQuote', data: { quoteId: q2, text: 'unanimously for repairs', speaker: 'Council clerk' } });
    await newsroom.article(id, { type: 'AttributeQuote', data: { quoteId: q1, sourceId: jane, attribution: 'told the Daily', method: 'interview' } });
    await newsroom.article(id, { type: 'AttributeQuote', data: { quoteId: q2, sourceId: jane, attribution: null, method: 'statement' } });
    await newsroom.article(id, { type: 'AttributeQuote', data: { quoteId: q2, sourceId: city, attribution: 'in a statement', method: 'statement' } });
    await newsroom.article(id, { type: 'TagTopic', data: { label: 'Infrastructure' } });
    await newsroom.article(id, { type: 'TagTopic', data: { label: `Ward ${i}` } });
    await newsroom.article(id, { type: 'TagTopic', data: { label: 'Elections' } });
    await newsroom.article(id, { type: 'UntagTopic', data: { slug: 'elections' } });
    await newsroom.article(id, { type: 'RecordClaim', data: { claimId: c1, text: `The bridge ${i} is safe`, quoteId: q1 } });
    await newsroom.article(id, { type: 'RecordVerdict', data: { claimId: c1, verdict: 'misleading', evidence: [{ note: 'Inspection pending' }], note: null } }, CHECKER);
    await newsroom.article(
      id,
      { type: 'RecordVerdict', data: { claimId: c1, verdict: 'verified', evidence: [{ url: 'https://example.org/report', note: 'Inspection report' }], note: 'Checked' } },
      CHECKER,
    );
    await newsroom.article(id, { type: 'ChangeHeadline', data: { headline: `Bridge ${i} reopens after repairs` } });
    // The council quote drops out of the body: inBody false, and publication would be blocked, so it is withdrawn.
    await newsroom.article(id, { type: 'ReviseBody', data: { body: `The bridge reopened on Monday ${i} after repairs.\n\n"It is safe," said Jane Doe.` } });
    await newsroom.article(id, { type: 'WithdrawQuote', data: { quoteId: q2, reason: 'Cut from the story' } });
    await newsroom.article(id, { type: 'SubmitArticle', data: {} });
    await newsroom.article(id, { type: 'ApproveArticle', data: {} }, EDITOR);
    last = await newsroom.article(id, { type: 'PublishArticle', data: {} }, EDITOR);
    if (i % 2 === 0) last = await newsroom.article(id, { type: 'IssueCorrection', data: { text: `Correction ${i}: the bridge is in Ward ${i}.` } }, EDITOR);
    if (i === 1) last = await newsroom.article(id, { type: 'RetractArticle', data: { reason: 'Wrong bridge' } }, EDITOR);
  }
  // A second draft stays a draft, and a source update changes a headline-independent field.
  const draft = newsroom.id(`${prefix}-article-draft`);
  articleIds.push(draft);
  await newsroom.article(draft, { type: 'DraftArticle', data: { articleId: draft, headline: 'Budget talks stall', body: 'Talks stalled on Friday.', byline: null, desk: null } });
  await newsroom.article(draft, { type: 'RecordClaim', data: { claimId: newsroom.id(`${prefix}-claim-draft`), text: 'Talks stalled', quoteId: null } });
  last = await newsroom.source(city, { type: 'UpdateSource', data: { name: 'City Hall Press Office', title: null } });
  return { articleIds, sourceIds: [jane, city], last };
}
