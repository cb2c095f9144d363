import { randomUUID } from 'node:crypto';
import { EventStore, NewEvent } from '../../src/event-store/event-store';
import { Actor } from '../../src/newsroom/actor';
import { ArticleCommand, ArticleEvent, ArticleState, SourceSnapshot, Verdict, articleDecider, articleStream } from '../../src/newsroom/article/article.decider';
import { Decider } from '../../src/newsroom/command-executor';
import { DomainError } from '../../src/newsroom/domain-error';
import { DomainEvent, schemaVersionOf } from '../../src/newsroom/event-codec';
import { GENESIS_HASH, HASH_VERSION, eventHash } from '../../src/newsroom/hash-chain';
import { uuidV5 } from '../../src/newsroom/ids';
import { sourceDecider, sourceStream } from '../../src/newsroom/source/source.decider';
import { inParallel } from './newsroom';
import { Body, Random, SPEAKERS, TOPICS, articleBody, claimText, headline, pick, rng } from './text';

const REPORTER: Actor = { id: 'bench-reporter', name: 'Bench Reporter', roles: ['reporter'] };
const EDITOR: Actor = { id: 'bench-editor', name: 'Bench Editor', roles: ['editor'] };
/** Changes copy; EDITOR approves, and four-eyes refuses an approver who wrote any of it. */
const COPY_EDITOR: Actor = { id: 'bench-copy-editor', name: 'Bench Copy Editor', roles: ['editor'] };
const CHECKER: Actor = { id: 'bench-checker', name: 'Bench Checker', roles: ['fact_checker'] };
const VERDICTS: Verdict[] = ['verified', 'false', 'misleading', 'unverifiable'];

/** Command time: one second a command from 2024-01-01, so events look like a newsroom's day after day. */
export class Clock {
  private at = Date.UTC(2024, 0, 1);
  tick(): string {
    this.at += 1000;
    return new Date(this.at).toISOString();
  }
}

/**
 * Turns commands into events exactly as CommandExecutor does (decide on the folded state, the same
 * metadata, event ids derived from the command id, the hash chain), without HTTP or reading back.
 */
export class StreamWriter<C, E extends DomainEvent, S> {
  revision = -1;
  state: S;
  private hash = GENESIS_HASH;

  constructor(
    readonly stream: string,
    private readonly decider: Decider<C, E, S>,
  ) {
    this.state = decider.initialState();
  }

  /** The command's events, already folded into `state`; none when the decider refuses it or it changes nothing. */
  decide(command: C, actor: Actor, now: string, reason?: string): NewEvent[] {
    let decided: E[];
    try {
      decided = this.decider.decide(command, this.state);
    } catch (error) {
      if (error instanceof DomainError) return [];
      throw error;
    }
    const commandId = randomUUID();
    return decided.map((event, index) => {
      const id = uuidV5(`${commandId}:${this.stream}:${index}`);
      const metadata: Record<string, unknown> = {
        actor,
        commandId,
        correlationId: commandId,
        causationId: commandId,
        occurredAt: now,
        ...(reason !== undefined ? { reason } : {}),
        schemaVersion: schemaVersionOf(event.type),
        hashVersion: HASH_VERSION,
        previousHash: this.hash,
      };
      this.revision++;
      metadata.hash = this.hash = eventHash({ id, streamId: this.stream, revision: this.revision, type: event.type, data: event.data, metadata });
      this.state = this.decider.evolve(this.state, event);
      return { id, type: event.type, data: event.data, metadata };
    });
  }
}

/** A plausible life of one article: quotes, attributions, topics, claims, verdicts, edits, review and publication. */
export class ArticleScript {
  readonly writer: StreamWriter<ArticleCommand, ArticleEvent, ArticleState>;
  private readonly body: Body;
  private held: NewEvent[] = [];

  constructor(
    readonly id: string,
    private readonly random: Random,
    private readonly clock: Clock,
    private readonly sources: readonly SourceSnapshot[],
  ) {
    this.writer = new StreamWriter(articleStream(id), articleDecider);
    this.body = articleBody(random);
  }

  /** What a quote can be: sentences of the body, which every revision keeps. */
  get sentences(): string[] {
    return this.body.sentences;
  }

  /** The revision of the last event `take` has handed out. */
  get revision(): number {
    return this.writer.revision - this.held.length;
  }

  /**
   * Exactly `count` more events. A command yields one, none when refused, or two (a content change
   * under review also sends the article back to draft): the second then waits for the next take.
   */
  take(count: number): NewEvent[] {
    const out = this.held;
    while (out.length < count) {
      const now = this.clock.tick();
      const { command, actor, reason } = this.command(now);
      out.push(...this.writer.decide(command, actor, now, reason));
    }
    this.held = out.splice(count);
    return out;
  }

  private command(now: string): { command: ArticleCommand; actor: Actor; reason?: string } {
    const state = this.writer.state;
    const metadata = (actor: Actor) => ({ actor, now });
    if (state.status === 'none') {
      const data = { articleId: this.id, headline: headline(this.random), body: this.body.body, byline: 'Bench Desk', desk: 'Metro' };
      return { command: { type: 'DraftArticle', data, metadata: metadata(REPORTER) }, actor: REPORTER };
    }
    const r = this.random() * 100;
    const quoteId = state.quoteOrder.length ? pick(this.random, state.quoteOrder) : null;
    const claimId = state.claimOrder.length ? pick(this.random, state.claimOrder) : null;
    if (r < 40 && r >= 25 && quoteId && this.sources.length) {
      const data = { quoteId, source: pick(this.random, this.sources), attribution: 'told reporters', method: 'interview' as const };
      return { command: { type: 'AttributeQuote', data, metadata: metadata(REPORTER) }, actor: REPORTER };
    }
    if (r < 40) {
      const data = { quoteId: randomUUID(), text: pick(this.random, this.body.sentences), speaker: pick(this.random, SPEAKERS) };
      return { command: { type: 'AddQuote', data, metadata: metadata(REPORTER) }, actor: REPORTER };
    }
    if (r < 55) return { command: { type: 'TagTopic', data: { label: pick(this.random, TOPICS) }, metadata: metadata(REPORTER) }, actor: REPORTER };
    if (r >= 75 && r < 85 && claimId) {
      const verdict = pick(this.random, VERDICTS);
      const data = { claimId, verdict, evidence: [{ url: `https://example.org/evidence/${claimId}`, note: 'Council minutes' }], note: null };
      return { command: { type: 'RecordVerdict', data, metadata: metadata(CHECKER) }, actor: CHECKER };
    }
    if (r < 85) return { command: { type: 'RecordClaim', data: { claimId: randomUUID(), text: claimText(this.random), quoteId: null }, metadata: metadata(CHECKER) }, actor: CHECKER };
    const reason = 'copy edit';
    if (r < 90) return { command: { type: 'ChangeHeadline', data: { headline: headline(this.random), reason }, metadata: metadata(COPY_EDITOR) }, actor: COPY_EDITOR, reason };
    if (r < 93) {
      // Live copy is an editor's to change.
      const reviser = state.status === 'published' ? COPY_EDITOR : REPORTER;
      const body = `${this.body.body}\n\n${claimText(this.random)}`;
      return { command: { type: 'ReviseBody', data: { body, reason }, metadata: metadata(reviser) }, actor: reviser, reason };
    }
    if (r < 98) return this.workflow(state.status, metadata);
    return { command: { type: 'WithdrawQuote', data: { quoteId: quoteId ?? randomUUID(), reason: 'could not confirm' }, metadata: metadata(COPY_EDITOR) }, actor: COPY_EDITOR };
  }

  private workflow(status: string, metadata: (actor: Actor) => { actor: Actor; now: string }): { command: ArticleCommand; actor: Actor } {
    if (status === 'draft') return { command: { type: 'SubmitArticle', data: {}, metadata: metadata(REPORTER) }, actor: REPORTER };
    if (status === 'in_review') return { command: { type: 'ApproveArticle', data: {}, metadata: metadata(EDITOR) }, actor: EDITOR };
    if (status === 'approved') return { command: { type: 'PublishArticle', data: {}, metadata: metadata(EDITOR) }, actor: EDITOR };
    return { command: { type: 'IssueCorrection', data: { text: 'An earlier version misspelled a name.' }, metadata: metadata(EDITOR) }, actor: EDITOR };
  }
}

/** Registers `count` sources through the port; answers their snapshots for attributions. */
export async function loadSources(store: EventStore, count: number, clock: Clock, seed = 7): Promise<SourceSnapshot[]> {
  const random = rng(seed);
  const snapshots: SourceSnapshot[] = [];
  for (let i = 0; i < count; i++) {
    const id = randomUUID();
    const writer = new StreamWriter(sourceStream(id), sourceDecider);
    const now = clock.tick();
    const data = { sourceId: id, name: pick(random, SPEAKERS), kind: 'person' as const, title: 'Spokesperson', organization: 'City Council' };
    const events = writer.decide({ type: 'RegisterSource', data, metadata: { actor: REPORTER, now } }, REPORTER, now);
    await store.appendToStream(writer.stream, events, { expectedRevision: 'no_stream' });
    snapshots.push({ id, name: data.name, title: data.title, organization: data.organization });
  }
  return snapshots;
}

export interface ArticleLoad {
  articles: number;
  eventsPerArticle: number;
  /** Events per append. */
  chunk?: number;
  /** Appends in flight. */
  concurrency?: number;
  seed?: number;
  /** Answer the scripts (their ids and quotable sentences); else nothing is kept. */
  keep?: boolean;
  onProgress?: (events: number) => void;
}

/**
 * Appends whole article histories through the event-store port in bulk: articles in groups, each
 * group's streams advanced a chunk at a time (so $all interleaves them as a newsroom would), each
 * append at the expected revision. Only one group is ever in memory.
 */
export async function loadArticles(store: EventStore, sources: readonly SourceSnapshot[], clock: Clock, load: ArticleLoad): Promise<ArticleScript[]> {
  const chunk = load.chunk ?? 25;
  const concurrency = load.concurrency ?? 8;
  const random = rng(load.seed ?? 1);
  const kept: ArticleScript[] = [];
  let written = 0;
  for (let first = 0; first < load.articles; first += 100) {
    const group = Array.from({ length: Math.min(100, load.articles - first) }, () => new ArticleScript(randomUUID(), random, clock, sources));
    for (let done = 0; done < load.eventsPerArticle; done += chunk) {
      const size = Math.min(chunk, load.eventsPerArticle - done);
      await inParallel(group.length, concurrency, async (i) => {
        const script = group[i];
        const expected = script.revision;
        const events = script.take(size);
        await store.appendToStream(script.writer.stream, events, { expectedRevision: expected < 0 ? 'no_stream' : expected });
      });
      written += size * group.length;
      load.onProgress?.(written);
    }
    if (load.keep) kept.push(...group);
  }
  return kept;
}
