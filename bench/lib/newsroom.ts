import { signToken } from '../../src/auth/jwt';
import { Role } from '../../src/newsroom/actor';
import { HttpClient } from './http';
import { Operation, Outcome } from './load';
import { BENCH_SECRET } from './paths';
import { Random, SPEAKERS, TOPICS, articleBody, claimText, headline, pick, rng } from './text';

export interface ArticleRef {
  id: string;
  sentences: string[];
  quotes: string[];
}

/** A write's outcome, with what the answer said (for the projection-lag probe). */
export interface WriteOutcome extends Outcome {
  articleId?: string;
  position?: string;
  /** A refused write's problem detail, when its answer had one (for the message of a setup step that fails). */
  detail?: string;
}

const METHODS = ['interview', 'press_briefing', 'statement', 'wire', 'document', 'social', 'other'];

export const isWrite = (kind: string): boolean => kind !== 'get';

/**
 * The newsroom mix of the issue over HTTP: 60% add quote / record claim / tag topic, 10% attribute,
 * 5% draft, 25% `GET /articles/{id}`, spread over a fixed set of articles by several reporters.
 */
export class Newsroom {
  readonly articles: ArticleRef[] = [];
  readonly sources: string[] = [];
  private readonly quoted: ArticleRef[] = [];
  private readonly tokens: string[];
  private readonly random: Random;
  private turn = 0;

  constructor(
    readonly http: HttpClient,
    seed = 42,
  ) {
    this.random = rng(seed);
    const roles: Role[] = ['reporter', 'fact_checker'];
    this.tokens = Array.from({ length: 8 }, (_, i) => signToken(BENCH_SECRET, { id: `bench-reporter-${i}`, name: `Bench Reporter ${i}`, roles }, '12h'));
  }

  private token(): string {
    return this.tokens[this.turn++ % this.tokens.length];
  }

  /** Registers sources and drafts articles (the pool the mix works on), `concurrency` at a time. */
  async seed(articles: number, sources: number, concurrency = 16): Promise<void> {
    await inParallel(sources, concurrency, async () => {
      const answer = await this.http.send('POST', '/sources', this.token(), { name: pick(this.random, SPEAKERS), kind: 'person', title: 'Spokesperson' });
      if (answer.status !== 201) throw new Error(`POST /sources answered ${answer.status}: ${JSON.stringify(answer.body)}`);
      this.sources.push((answer.body as { id: string }).id);
    });
    await inParallel(articles, concurrency, async () => {
      const outcome = await this.draft();
      if (!outcome.ok) throw new Error(`seeding an article failed: ${outcome.error}${outcome.detail ? ` (${outcome.detail})` : ''}`);
    });
  }

  async draft(into: ArticleRef[] | null = this.articles): Promise<WriteOutcome> {
    const { body, sentences } = articleBody(this.random);
    const outcome = await this.write('draft', 'POST', '/articles', { headline: headline(this.random), body, byline: 'Bench Desk' });
    if (outcome.ok && into) into.push({ id: outcome.articleId!, sentences, quotes: [] });
    return outcome;
  }

  async addQuote(article: ArticleRef): Promise<WriteOutcome> {
    const text = pick(this.random, article.sentences);
    const outcome = await this.write('quote', 'POST', `/articles/${article.id}/quotes`, { text, speaker: pick(this.random, SPEAKERS) }, (body) => {
      if (article.quotes.length === 0) this.quoted.push(article);
      article.quotes.push(body.quoteId as string);
    });
    return outcome;
  }

  recordClaim(article: ArticleRef): Promise<WriteOutcome> {
    return this.write('claim', 'POST', `/articles/${article.id}/claims`, { text: claimText(this.random) });
  }

  tagTopic(article: ArticleRef): Promise<WriteOutcome> {
    return this.write('topic', 'POST', `/articles/${article.id}/topics`, { topic: pick(this.random, TOPICS) });
  }

  attribute(): Promise<WriteOutcome> {
    if (this.quoted.length === 0 || this.sources.length === 0) return this.addQuote(this.anyArticle());
    const article = pick(this.random, this.quoted);
    const quoteId = pick(this.random, article.quotes);
    return this.write('attribute', 'POST', `/articles/${article.id}/quotes/${quoteId}/attribution`, {
      sourceId: pick(this.random, this.sources),
      method: pick(this.random, METHODS),
      attribution: 'told the Bench Times',
    });
  }

  async get(article: ArticleRef, headers: Record<string, string> = {}, path = `/articles/${article.id}`): Promise<Outcome & { readPosition?: string }> {
    const answer = await this.http.send('GET', path, this.token(), undefined, headers);
    const ok = answer.status === 200;
    return { kind: 'get', ok, ms: answer.ms, error: ok ? undefined : `${answer.status} ${describe(answer.body)}`, readPosition: answer.headers['x-read-position'] as string | undefined };
  }

  anyArticle(): ArticleRef {
    return pick(this.random, this.articles);
  }

  /** One request of the full mix (writes and reads). */
  readonly mix: Operation = () => {
    const r = this.random() * 100;
    if (r < 25) return this.get(this.anyArticle());
    return this.writeMix();
  };

  /** One write of the mix, in the mix's proportions among writes (20:20:20:10:5). */
  readonly writeMix = (): Promise<WriteOutcome> => {
    const r = this.random() * 75;
    if (r < 20) return this.addQuote(this.anyArticle());
    if (r < 40) return this.recordClaim(this.anyArticle());
    if (r < 60) return this.tagTopic(this.anyArticle());
    if (r < 70) return this.attribute();
    return this.draft(null);
  };

  private async write(kind: string, method: string, path: string, body: unknown, onOk?: (body: Record<string, unknown>) => void): Promise<WriteOutcome> {
    const answer = await this.http.send(method, path, this.token(), body);
    const ok = answer.status === 200 || answer.status === 201;
    const answerBody = (answer.body ?? {}) as Record<string, unknown>;
    if (ok) onOk?.(answerBody);
    return {
      kind,
      ok,
      ms: answer.ms,
      error: ok ? undefined : `${answer.status} ${describe(answer.body)}`,
      articleId: ok ? String(answerBody.id) : undefined,
      position: ok ? String(answerBody.position) : undefined,
      detail: !ok && typeof answerBody.detail === 'string' ? answerBody.detail : undefined,
    };
  }
}

function describe(body: unknown): string {
  return typeof body === 'object' && body !== null && 'type' in body ? String((body as { type: unknown }).type) : String(body).slice(0, 100);
}

/** Runs `task` `count` times, at most `concurrency` at once. */
export async function inParallel(count: number, concurrency: number, task: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}
