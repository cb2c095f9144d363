import { randomInt } from 'node:crypto';
import { Pool } from 'pg';
import { signToken } from '../../src/auth/jwt';
import { Clock, loadArticles, loadSources } from '../../bench/lib/event-factory';
import { PROJECTIONS } from '../../projections';
import { createEventStore } from '../../src/event-store/create-event-store';
import { EventStore, RecordedEvent, comparePositions } from '../../src/event-store/event-store';
import { TEST_SECRET } from '../support/app';
import { createTestDatabase, TestDatabase } from '../support/database';
import { EsdbProcess, startEsdbProcess } from '../support/esdb-process';
import { EVENT_STORES, StoreKind } from '../support/event-stores';
import { foldLog } from '../support/log-fold';
import { inParallel, pageThrough } from '../support/paging';
import { ServerProcess, startServerProcess } from '../support/server-process';

/** Kills per store (one of them during a rebuild of every projection); CRASH_ROUNDS=20 for a longer run. */
const ROUNDS = Number(process.env.CRASH_ROUNDS ?? 3);
const REBUILD_ROUND = Math.floor(ROUNDS / 2);
const WRITERS = 16;
/** Every writer writes to every one of these, so that commands race on each stream. */
const SHARED_ARTICLES = 4;
const SOURCES = 3;
/** Articles of 20 events written before the rounds: enough that rebuilding takes more than one batch. */
const PREFILL_ARTICLES = Number(process.env.CRASH_PREFILL_ARTICLES ?? 150);
/** The runner's default events per rebuild batch. */
const REBUILD_BATCH = 2000;
const PHRASES = Array.from({ length: 10 }, (_, k) => `phrase number ${k}`);
const VERDICTS = ['verified', 'false', 'misleading'];

/** Refusals a writer may get when racing others: anything else, and every 5xx, fails the spec. */
const EXPECTED_REFUSALS = new Set(['409 concurrency-conflict', '404 topic-not-tagged']);

interface Command {
  key: string;
  method: string;
  path: string;
  body?: object;
  /** What an acknowledged answer adds to the writer's own state. */
  onAcknowledged?: (body: any) => void;
}

/** One reporter and fact-checker racing the others on the shared articles, resending what was never answered. */
class Writer {
  readonly actor: string;
  readonly token: string;
  private next = 0;
  pending: Command | null = null;
  readonly acknowledged: { key: string; path: string; body: { id: string; revision: number; position: string } }[] = [];
  readonly refused = new Map<string, number>();
  readonly unexpected: string[] = [];
  readonly slow: string[] = [];
  private readonly claims: { article: string; id: string }[] = [];
  private readonly quotes: { article: string; id: string }[] = [];

  constructor(
    readonly n: number,
    private readonly articles: string[],
    private readonly sources: string[],
  ) {
    this.actor = `writer-${n}`;
    this.token = signToken(TEST_SECRET, { id: this.actor, name: `Writer ${n}`, roles: ['reporter', 'fact_checker'] });
  }

  private pick<T>(items: T[]): T {
    return items[randomInt(items.length)];
  }

  private nextCommand(): Command {
    const i = this.next++;
    const key = `${this.actor}-${i}`;
    const article = this.pick(this.articles);
    const claim = this.claims.length ? this.pick(this.claims) : null;
    const quote = this.quotes.length ? this.pick(this.quotes) : null;
    switch (i % 7) {
      case 1:
        return { key, method: 'POST', path: `/articles/${article}/claims`, body: { text: `Claim ${key}` }, onAcknowledged: (b) => this.claims.push({ article, id: b.claimId }) };
      case 2:
        if (claim) return { key, method: 'POST', path: `/articles/${claim.article}/claims/${claim.id}/verdict`, body: { verdict: this.pick(VERDICTS), evidence: [{ note: key }] } };
        break;
      case 3:
        return { key, method: 'POST', path: `/articles/${article}/quotes`, body: { text: this.pick(PHRASES), speaker: this.actor }, onAcknowledged: (b) => this.quotes.push({ article, id: b.quoteId }) };
      case 4:
        if (quote) return { key, method: 'POST', path: `/articles/${quote.article}/quotes/${quote.id}/attribution`, body: { sourceId: this.pick(this.sources), method: 'interview' } };
        break;
      case 5:
        return { key, method: 'DELETE', path: `/articles/${article}/topics/topic-${randomInt(4)}` };
      case 6:
        if (quote)
          return {
            key,
            method: 'POST',
            path: `/articles/${quote.article}/quotes/${quote.id}/withdrawal`,
            body: { reason: `Withdrawn by ${key}` },
            onAcknowledged: () => this.quotes.splice(this.quotes.indexOf(quote), 1),
          };
        break;
    }
    return { key, method: 'POST', path: `/articles/${article}/topics`, body: { topic: `Topic ${randomInt(4)}` } };
  }

  /** Sends until the server dies: a request that got no answer is kept and resent later with the same key. */
  async run(server: ServerProcess, until: () => boolean): Promise<void> {
    while (!until()) {
      const command = (this.pending ??= this.nextCommand());
      let res: Response;
      let body: any;
      const started = Date.now();
      try {
        res = await fetch(server.url + command.path, {
          method: command.method,
          headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json', 'idempotency-key': command.key },
          body: command.body ? JSON.stringify(command.body) : undefined,
        });
        body = await res.json();
      } catch {
        return; // the server died mid-request: what a client sees is a broken connection
      }
      if (Date.now() - started > 2000) this.slow.push(`${Date.now() - started} ms ${res.status} ${command.method} ${command.path}`);
      if (res.status >= 200 && res.status < 300) {
        this.acknowledged.push({ key: command.key, path: command.path, body });
        command.onAcknowledged?.(body);
      } else if (EXPECTED_REFUSALS.has(`${res.status} ${body?.type}`)) {
        this.refused.set(body.type, (this.refused.get(body.type) ?? 0) + 1);
      } else {
        this.unexpected.push(`${res.status} ${JSON.stringify(body)} for ${command.method} ${command.path}`);
        if (res.status >= 500) return;
      }
      this.pending = null;
    }
  }
}

async function call(server: ServerProcess, token: string, path: string, init: RequestInit = {}) {
  const res = await fetch(server.url + path, { ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...(init.headers ?? {}) } });
  return { status: res.status, body: (await res.json()) as any };
}

async function readLog(store: EventStore): Promise<RecordedEvent[]> {
  const events: RecordedEvent[] = [];
  for (;;) {
    const page = await store.readAll({ fromPosition: events.at(-1)?.position, maxCount: 2000 });
    if (page.length === 0) return events;
    events.push(...page);
  }
}

describe.each(EVENT_STORES)('crash safety on %s: SIGKILL under 16 writers racing on shared articles', (kind: StoreKind) => {
  let db: TestDatabase;
  let pool: Pool;
  let esdb: EsdbProcess | undefined;
  let log: EventStore;
  let server: ServerProcess | null = null;
  const admin = signToken(TEST_SECRET, { id: 'admin', name: 'Admin', roles: ['admin'] });
  const env = () => ({
    DATABASE_URL: db.url,
    RATE_LIMIT_WRITES_PER_MINUTE: '1000000',
    ...(esdb ? { EVENTSTORE_CONNECTION_STRING: esdb.connectionString } : {}),
  });
  const get = (path: string) => call(server!, admin, path);

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = new Pool({ connectionString: db.url, max: 4 });
    if (kind === 'eventstoredb') esdb = await startEsdbProcess();
    log = createEventStore({ eventStoreConnectionString: esdb?.connectionString, pool, databaseUrl: db.url });
  });
  afterAll(async () => {
    await server?.kill();
    await log?.close();
    await pool?.end();
    await db?.drop();
    await esdb?.stop();
  });

  /** Once every projection runs and has applied the whole log: the API's read models against the log, folded here. */
  async function expectModelsAgreeWithLog(): Promise<number> {
    const events = await readLog(log);
    const head = events.reduce((max, e) => (comparePositions(e.position, max) > 0 ? e.position : max), '0');
    for (const deadline = Date.now() + 120_000; ; ) {
      const { body } = await get('/admin/projections');
      const done = body.items.every((p: any) => p.status === 'running' && p.error === null && p.position !== null && comparePositions(p.position, head) >= 0);
      if (done) break;
      if (Date.now() > deadline) throw new Error(`projections did not catch up to ${head}: ${JSON.stringify(body.items)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const expected = foldLog(events);
    const pages = (path: string) => pageThrough((p) => get(p), path, 200);

    const audit = await pages('/audit');
    expect(audit.map((e) => e.position)).toEqual([...expected.positions].reverse());
    const claims = await pages('/claims');
    // Seen twice in about a dozen runs (30 Nov): a claim served with a verdict where the log, folded here, has none.
    // When it happens, show that claim's events as the log holds them, to tell the model's fault from the fold's.
    for (const c of claims) {
      const want = expected.claims.get(`${c.articleId} ${c.id}`);
      if (want?.verdict === c.verdict) continue;
      const related = events.filter((e) => e.streamId === `article-${c.articleId}` && (e.data as { claimId?: string }).claimId === c.id);
      const shown = related.map((e) => ({ position: e.position, revision: e.revision, type: e.type, data: e.data, commandId: e.metadata.commandId }));
      process.stdout.write(`claim ${c.articleId} ${c.id}: served ${c.verdict}, folded ${JSON.stringify(want)}; its events:\n${JSON.stringify(shown, null, 1)}\n`);
    }
    expect(new Map(claims.map((c) => [`${c.articleId} ${c.id}`, { articleId: c.articleId, verdict: c.verdict }]))).toEqual(expected.claims);
    const topics = await pages('/topics');
    expect(new Map(topics.map((t) => [t.slug, { label: t.label, articleCount: t.articleCount }]))).toEqual(expected.topics);
    const sources = await pages('/sources');
    expect(new Map(sources.map((s) => [s.id, s.quoteCount]))).toEqual(new Map([...expected.sourceQuotes].map(([id, quotes]) => [id, quotes.size])));
    for (const [id, quotes] of expected.sourceQuotes) {
      const served = await pages(`/sources/${id}/quotes`);
      expect([id, new Map(served.map((q) => [q.quoteId, q.status]))]).toEqual([id, quotes]);
    }
    await inParallel(
      [...expected.articles].map(([id, article]) => async () => {
        const { status, body } = await get(`/articles/${id}`);
        expect([id, status]).toEqual([id, 200]);
        expect([id, body.revision, body.topics.map((t: { slug: string }) => t.slug)]).toEqual([id, article.revision, article.topics]);
        expect([id, new Map(body.claims.map((c: any) => [c.id, c.verdict]))]).toEqual([id, article.claims]);
        expect([id, new Map(body.quotes.map((q: any) => [q.id, { status: q.status, sourceId: q.source?.id ?? null }]))]).toEqual([id, article.quotes]);
      }),
      4,
    );
    return events.length;
  }

  it(`loses and doubles nothing acknowledged, and every read model agrees with the log after each of ${ROUNDS} kills, one during a rebuild`, async () => {
    const t0 = Date.now();
    const phase = (what: string) => process.stdout.write(`crash safety on ${kind}: ${what} at ${Date.now() - t0} ms\n`);
    server = await startServerProcess(env());
    phase('started');
    const reporter = signToken(TEST_SECRET, { id: 'setup', name: 'Setup', roles: ['reporter'] });
    const sources: string[] = [];
    for (let i = 0; i < SOURCES; i++) {
      const registered = await call(server, reporter, '/sources', { method: 'POST', body: JSON.stringify({ name: `Source ${i}`, kind: 'person' }) });
      expect(registered.status).toBe(201);
      sources.push(registered.body.id);
    }
    const articles: string[] = [];
    for (let i = 0; i < SHARED_ARTICLES; i++) {
      const drafted = await call(server, reporter, '/articles', { method: 'POST', body: JSON.stringify({ headline: `Shared ${i}`, body: PHRASES.map((p) => `She said “${p}”.`).join('\n\n') }) });
      expect(drafted.status).toBe(201);
      articles.push(drafted.body.id);
    }
    // History enough that rebuilding takes several batches: commands decided on the folded state, as
    // the executor does, appended 20 events at a time through the store (bench/lib/event-factory.ts).
    const clock = new Clock();
    await loadArticles(log, await loadSources(log, 5, clock), clock, { articles: PREFILL_ARTICLES, eventsPerArticle: 20, chunk: 20 });
    const writers = Array.from({ length: WRITERS }, (_, n) => new Writer(n, articles, sources));
    phase('prefilled');

    let interruptedRebuild: { name: string; done: number; total: number } | null = null;
    for (let round = 0; round < ROUNDS; round++) {
      const live = server!;
      let dead = false;
      const work = Promise.all(writers.map((w) => w.run(live, () => dead)));
      if (round === REBUILD_ROUND) {
        const requested = await Promise.all(PROJECTIONS.map((p) => call(live, admin, `/admin/projections/${p.name}/rebuild`, { method: 'POST' })));
        expect(requested.map((r) => [r.status, r.body.status])).toEqual(PROJECTIONS.map(() => [202, 'rebuilding']));
        phase('rebuilds requested');
        // Kill the moment a build has started and not finished (what /admin/projections shows as rebuild.done < total),
        // read from the database itself: the status endpoint counts the log, too slowly to catch a short build.
        // A build longer than one batch is caught after its first batch. (Starting one counts the log: on the
        // EventStoreDB test server, under the writers, on a busy machine, that has taken most of a minute.)
        for (const deadline = Date.now() + 180_000; interruptedRebuild === null && Date.now() < deadline; ) {
          const { rows } = await pool.query<{ name: string; done: string; total: string }>(
            `SELECT name, build_done AS done, build_total AS total FROM projection_status
             WHERE build_schema IS NOT NULL AND build_started_at IS NOT NULL AND build_done < build_total
               AND (build_done > 0 OR build_total <= $1) LIMIT 1`,
            [REBUILD_BATCH],
          );
          if (rows.length) interruptedRebuild = { name: rows[0].name, done: Number(rows[0].done), total: Number(rows[0].total) };
          else await new Promise((resolve) => setTimeout(resolve, 2));
        }
      } else {
        await new Promise((resolve) => setTimeout(resolve, randomInt(500, 2500)));
      }
      await live.kill('SIGKILL');
      dead = true;
      await work;
      if (round === REBUILD_ROUND) {
        expect(interruptedRebuild).not.toBeNull();
        // What the kill left: that build still under way, not swapped in (it resumes after the restart).
        const { rows } = await pool.query(`SELECT build_schema, build_done, build_total FROM projection_status WHERE name = $1`, [interruptedRebuild!.name]);
        expect([rows[0].build_schema === null, Number(rows[0].build_done) < Number(rows[0].build_total)]).toEqual([false, true]);
      }
      phase(`round ${round} killed`);
      server = await startServerProcess(env());
      phase(`round ${round} restarted`);
      await expectModelsAgreeWithLog();
      phase(`round ${round} checked`);
    }

    // Every command that never got an answer is resent until it does.
    const final = server!;
    await Promise.all(writers.map((w) => w.run(final, () => w.pending === null)));
    const events = await expectModelsAgreeWithLog();

    process.stdout.write(`slow answers: ${JSON.stringify(writers.flatMap((w) => w.slow))}\n`);
    expect(writers.flatMap((w) => w.unexpected)).toEqual([]);
    const acknowledged = writers.flatMap((w) => w.acknowledged);
    expect(acknowledged.length).toBeGreaterThan(WRITERS * ROUNDS);
    const logged = await readLog(log);
    // Each acknowledged write is in the log where its answer says; no command's events are there twice; no gaps.
    const at = new Map(logged.map((e) => [`${e.streamId}@${e.revision}`, e.position]));
    for (const { key, path, body } of acknowledged) expect([key, path, at.get(`article-${body.id}@${body.revision}`)]).toEqual([key, path, body.position]);
    // A command appends each event type at most once (a content change in review also appends ArticleReturnedToDraft).
    const perCommand = new Map<string, number>();
    for (const e of logged) {
      const key = `${String(e.metadata.commandId)} ${e.type}`;
      perCommand.set(key, (perCommand.get(key) ?? 0) + 1);
    }
    expect([...perCommand].filter(([, n]) => n > 1)).toEqual([]);
    const revisions = new Map<string, number[]>();
    for (const e of logged) revisions.set(e.streamId, [...(revisions.get(e.streamId) ?? []), e.revision]);
    for (const [stream, seen] of revisions) expect([stream, seen.sort((a, b) => a - b)]).toEqual([stream, seen.map((_, i) => i)]);

    const refused = writers.reduce((n, w) => n + [...w.refused.values()].reduce((a, b) => a + b, 0), 0);
    process.stdout.write(
      `crash safety on ${kind}: ${ROUNDS} kills (one with ${interruptedRebuild!.name} rebuilt ${interruptedRebuild!.done}/${interruptedRebuild!.total}), ` +
        `${acknowledged.length} writes acknowledged, ${refused} refused by races, 0 lost, 0 doubled, ${events} events\n`,
    );
  }, 600_000);
});
