import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'pg';
import { RecordedEvent } from '../../src/event-store/event-store';
import { slugify } from '../../src/newsroom/text';
import { freePort } from '../../src/read-store/embedded-postgres';
import { startTestApp, TestApp } from '../support/app';
import { EVENT_STORES, StoreFixture, StoreKind, startEventStore } from '../support/event-stores';
import { CHECKER, Newsroom, REPORTER } from '../support/newsroom';
import { Answer, byPositionAsc, byPositionDesc, checkServedDuringWrites, inParallel, pageThrough } from '../support/paging';
import { PgProcess, startPgProcess } from '../support/pg-process';

/** Items per list (sources, articles, claims, history events; half as many quotes and claims of one article). */
const ITEMS = Number(process.env.PAGING_ITEMS ?? 300);
const LIMITS = [7, 61, 200];
const DURING_WRITES_LIMIT = 23;
/** Names with ties (equal, equal but for case) and outside ASCII: sources are ordered by lower(name), id. */
const NAMES = ['Jane Doe', 'jane doe', 'JANE DOE', 'Zoë Ångström', 'ZOË ÅNGSTRÖM', 'Łukasz Żółw', 'Émile Zola', 'emile zola', '東京 報道', 'Ærø Ørsted', 'Straße', 'Ñandú', 'Doe'];

/** Everything written, with the keys each list orders by (positions the writes answered). */
class World {
  readonly sources = new Map<string, string>();
  readonly articles = new Map<string, { drafted: string; inReview: boolean; topic: boolean; needle: boolean }>();
  readonly claims = new Map<string, { position: string; verdict: string | null; topic: boolean }>();
  readonly heavyClaims = new Map<string, { position: string; verdict: string | null }>();
  readonly attributed = new Map<string, string>();
  readonly topics = new Set<string>();
  historyRevision = 0;
  prolific = '';
  heavy = '';
  history = '';
  private n = 0;

  constructor(private readonly newsroom: Newsroom) {}

  private nextId(kind: string): string {
    return this.newsroom.id(`${kind}-${this.n++}`);
  }

  async source(i: number, name = NAMES[i % NAMES.length]): Promise<string> {
    const id = this.nextId('source');
    await this.newsroom.source(id, { type: 'RegisterSource', data: { sourceId: id, name, kind: 'person', title: i % 5 ? null : 'Mayor', organization: null } });
    this.sources.set(id, name);
    return id;
  }

  /** A draft, a third of them tagged, every fourth submitted; `claims` recorded before the submission. */
  async article(i: number, claims = 0): Promise<void> {
    const needle = i % 5 === 0;
    const id = await this.draft('article', `Story ${i}${needle ? ' needle' : ''}`, `Body ${i}.`);
    const topic = i % 3 === 0;
    if (topic) await this.tag(id, 'Paging Topic');
    for (let c = 0; c < claims; c++) {
      const at = await this.claim(id, i * claims + c);
      this.claims.set(at.id, { position: at.position, verdict: at.verdict, topic });
    }
    const inReview = i % 4 === 0;
    if (inReview) await this.newsroom.article(id, { type: 'SubmitArticle', data: {} });
    Object.assign(this.articles.get(id)!, { inReview, topic, needle });
  }

  async claim(articleId: string, i: number): Promise<{ id: string; position: string; verdict: string | null }> {
    const id = this.nextId('claim');
    const recorded = await this.newsroom.article(articleId, { type: 'RecordClaim', data: { claimId: id, text: `Claim ${i}`, quoteId: null } }, CHECKER);
    const verdict = i % 4 === 0 ? 'verified' : i % 4 === 1 ? 'false' : null;
    if (verdict) await this.newsroom.article(articleId, { type: 'RecordVerdict', data: { claimId: id, verdict, evidence: [{ note: 'Checked' }], note: null } }, CHECKER);
    return { id, position: recorded.position, verdict };
  }

  async heavyClaim(i: number): Promise<void> {
    const { id, position, verdict } = await this.claim(this.heavy, i);
    this.heavyClaims.set(id, { position, verdict });
  }

  /** An article quoting `count` phrases, each attributed to the prolific source (every tenth to another one). */
  async quotes(i: number, count: number, other: string): Promise<void> {
    const phrases = Array.from({ length: count }, (_, k) => `line ${k} of ${i}`);
    const id = await this.draft('quoted', `Quoted ${i}`, phrases.map((p) => `She said “${p}”.`).join('\n\n'));
    for (const [k, text] of phrases.entries()) {
      const quoteId = this.nextId('quote');
      await this.newsroom.article(id, { type: 'AddQuote', data: { quoteId, text, speaker: 'Someone' } });
      const source = k % 10 === 9 ? other : this.prolific;
      const attributed = await this.newsroom.article(id, { type: 'AttributeQuote', data: { quoteId, sourceId: source, attribution: null, method: 'interview' } });
      if (source === this.prolific) this.attributed.set(quoteId, attributed.position);
    }
  }

  async tag(articleId: string, label: string): Promise<void> {
    await this.newsroom.article(articleId, { type: 'TagTopic', data: { label } });
    this.topics.add(slugify(label));
  }

  async historyEvent(i: number): Promise<void> {
    await this.tag(this.history, i % 2 ? `History ${i}` : `Histoire ${i} é`);
    this.historyRevision++;
  }

  async draft(kind: string, headline: string, body = 'Body.'): Promise<string> {
    const id = this.nextId(kind);
    const drafted = await this.newsroom.article(id, { type: 'DraftArticle', data: { articleId: id, headline, body, byline: null, desk: null } });
    this.articles.set(id, { drafted: drafted.position, inReview: false, topic: false, needle: false });
    return id;
  }
}

/**
 * The lists, each with its expected order computed from what was written (never from a read model).
 * `settled` names the claims whose verdicts were all recorded before paging began; a claim recorded since
 * had no verdict until its RecordVerdict landed, so `servable` lets it appear among the unverified while
 * writes arrive even if it has a verdict by the end. Every other list's items only ever join its filter.
 */
function lists(world: World, log: RecordedEvent[], sourceOrder: string[], window: { since: string; until: string }, settled?: ReadonlySet<string>) {
  const sortedBy = <T>(entries: [string, T][], key: (v: T) => string, cmp: (a: string, b: string) => number, keep: (v: T) => boolean = () => true) =>
    entries.filter(([, v]) => keep(v)).sort(([, a], [, b]) => cmp(key(a), key(b))).map(([k]) => k);
  const articles = [...world.articles];
  const claims = [...world.claims];
  const heavy = [...world.heavyClaims];
  const events = log.map((e): [string, RecordedEvent] => [e.position, e]);
  const actorOf = (e: RecordedEvent) => (e.metadata.actor as { id: string }).id;
  const at = (e: RecordedEvent) => Date.parse(e.metadata.occurredAt as string);
  const { since, until } = window;
  const sourceSet = (keep: (name: string) => boolean) => sourceOrder.filter((id) => keep(world.sources.get(id)!));
  const position = (item: { position: string }) => item.position;
  const id = (item: { id: string }) => item.id;
  const slug = (item: { slug: string }) => item.slug;
  return [
    { path: '/audit', key: position, expected: sortedBy(events, (e) => e.position, byPositionDesc) },
    { path: `/audit?actor=${CHECKER.id}`, key: position, expected: sortedBy(events, (e) => e.position, byPositionDesc, (e) => actorOf(e) === CHECKER.id) },
    { path: '/audit?type=ClaimRecorded', key: position, expected: sortedBy(events, (e) => e.position, byPositionDesc, (e) => e.type === 'ClaimRecorded') },
    {
      path: `/audit?actor=${REPORTER.id}&type=TopicTagged&since=${since}&until=${until}`,
      key: position,
      expected: sortedBy(events, (e) => e.position, byPositionDesc, (e) => actorOf(e) === REPORTER.id && e.type === 'TopicTagged' && at(e) >= Date.parse(since) && at(e) < Date.parse(until)),
    },
    { path: '/articles', key: id, expected: sortedBy(articles, (a) => a.drafted, byPositionDesc) },
    { path: '/articles?status=in_review', key: id, expected: sortedBy(articles, (a) => a.drafted, byPositionDesc, (a) => a.inReview) },
    { path: '/articles?topic=paging-topic&q=NEEDLE', key: id, expected: sortedBy(articles, (a) => a.drafted, byPositionDesc, (a) => a.topic && a.needle) },
    { path: '/claims', key: id, expected: sortedBy([...claims, ...heavy], (c) => c.position, byPositionDesc) },
    {
      path: '/claims?verdict=none&topic=paging-topic',
      key: id,
      expected: sortedBy(claims, (c) => c.position, byPositionDesc, (c) => c.verdict === null && c.topic),
      servable: sortedBy(
        claims.filter(([claimId, c]) => c.topic && (c.verdict === null || (settled !== undefined && !settled.has(claimId)))),
        (c) => c.position,
        byPositionDesc,
      ),
    },
    { path: `/articles/${world.heavy}/claims`, key: id, expected: sortedBy(heavy, (c) => c.position, byPositionAsc) },
    { path: `/articles/${world.heavy}/claims?verdict=verified`, key: id, expected: sortedBy(heavy, (c) => c.position, byPositionAsc, (c) => c.verdict === 'verified') },
    { path: '/sources', key: id, expected: sourceOrder },
    { path: '/sources?q=DOE', key: id, expected: sourceSet((name) => name.toLowerCase().includes('doe')) },
    { path: `/sources/${world.prolific}/quotes`, key: (q: { quoteId: string }) => q.quoteId, expected: sortedBy([...world.attributed], (p) => p, byPositionDesc) },
    { path: `/articles/${world.history}/history`, key: (e: { revision: number }) => String(e.revision), expected: Array.from({ length: world.historyRevision + 1 }, (_, r) => String(r)) },
    { path: '/topics', key: slug, expected: [...world.topics].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))) },
  ];
}

describe.each(EVENT_STORES)('deep paging on %s: every list to the end, in order, none missing, none twice', (kind: StoreKind) => {
  let pg: PgProcess | undefined;
  let pgDir: string | undefined;
  let store: StoreFixture;
  let t: TestApp;
  let base: string;
  let pool: Pool;
  let world: World;
  /** The middle third of the time the data was written in, for `since` and `until`. */
  let window: { since: string; until: string };
  const headers = () => ({ authorization: `Bearer ${t.token(['reporter'], 'paging-reader', 'Paging Reader')}` });
  const get = async (path: string, extra: Record<string, string> = {}): Promise<Answer> => {
    const res = await fetch(base + path, { headers: { ...headers(), ...extra } });
    return { status: res.status, body: await res.json() };
  };

  /** The whole log, independently of the read models. */
  async function readLog(): Promise<RecordedEvent[]> {
    const events: RecordedEvent[] = [];
    for (;;) {
      const page = await t.runtime.eventStore.readAll({ fromPosition: events.at(-1)?.position, maxCount: 1000 });
      if (page.length === 0) return events;
      events.push(...page);
    }
  }

  /** Waits until every read model has projected the whole log. */
  async function caughtUp(log: RecordedEvent[]): Promise<void> {
    const head = log.reduce((max, e) => (BigInt(e.position) > BigInt(max) ? e.position : max), '0');
    for (const deadline = Date.now() + 120_000; ; ) {
      const res = await get('/audit?limit=1', { 'x-wait-for-position': head });
      if (res.status === 200) return;
      if (res.status !== 503 || Date.now() > deadline) throw new Error(`read models did not catch up to ${head}: ${res.status} ${JSON.stringify(res.body)}`);
    }
  }

  /** Sources in the promised order, lower(name) then id, as PostgreSQL orders them (its collation, not JavaScript's). */
  async function sourceOrder(): Promise<string[]> {
    const entries = [...world.sources];
    const { rows } = await pool.query<{ id: string }>(`SELECT id::text FROM unnest($1::text[], $2::uuid[]) AS s(name, id) ORDER BY lower(name), id`, [
      entries.map(([, name]) => name),
      entries.map(([id]) => id),
    ]);
    return rows.map((r) => r.id);
  }

  beforeAll(async () => {
    let db;
    if (kind === 'postgres') {
      // A fresh cluster: its transaction ids start below 1,526, so positions ((xid << 16) + index) cross from 8 to 9 digits while the data is written.
      pgDir = mkdtempSync(join(tmpdir(), 'copydesk-paging-'));
      chmodSync(pgDir, 0o755);
      pg = await startPgProcess(pgDir, await freePort());
      db = { url: pg.ownerUrl, appUrl: pg.url, drop: async () => undefined };
    }
    store = await startEventStore(kind);
    t = await startTestApp({ db, eventStoreConnectionString: store.eventStoreConnectionString, env: { RATE_LIMIT_WRITES_PER_MINUTE: '1000000' } });
    await t.app.listen(0, '127.0.0.1');
    base = await t.app.getUrl();
    pool = new Pool({ connectionString: t.db.url, max: 2 });

    world = new World(new Newsroom(t.runtime.eventStore));
    world.prolific = await world.source(0, 'Prolific Source');
    const other = await world.source(1, 'Other Source');
    world.heavy = await world.draft('heavy', 'Heavy');
    world.history = await world.draft('history', 'History');
    const started = Date.now();
    const quoteArticles = Math.ceil(ITEMS / 2 / 20);
    await inParallel(
      [
        async () => {
          for (let i = 0; i < ITEMS / 2; i++) await world.heavyClaim(i);
        },
        async () => {
          for (let i = 0; i < ITEMS; i++) await world.historyEvent(i);
        },
        ...Array.from({ length: quoteArticles }, (_, i) => () => world.quotes(i, 20, other)),
        ...Array.from({ length: ITEMS }, (_, i) => () => world.source(i)),
        // The first tenth of the articles carry ten claims each.
        ...Array.from({ length: ITEMS }, (_, i) => () => world.article(i, i < ITEMS / 10 ? 10 : 0)),
      ],
      8,
    );
    const log = await readLog();
    await caughtUp(log);
    const times = log.map((e) => Date.parse(e.metadata.occurredAt as string)).sort((a, b) => a - b);
    window = { since: new Date(times[Math.floor(times.length / 3)]).toISOString(), until: new Date(times[Math.floor((2 * times.length) / 3)]).toISOString() };
    process.stdout.write(`deep paging on ${kind}: ${ITEMS} items written in ${Date.now() - started} ms\n`);
  }, 600_000);

  afterAll(async () => {
    await pool?.end();
    await t?.close();
    await store?.stop();
    await pg?.stop();
    if (pgDir) rmSync(pgDir, { recursive: true, force: true });
  });

  it('serves exactly the expected sequence with every limit, filters and cursors together, ties and non-ASCII names included', async () => {
    const log = await readLog();
    const digits = new Set(log.map((e) => e.position.length));
    // The premise of the audit trail's case: positions of different lengths, which a text order sorts wrongly.
    expect(digits.size).toBeGreaterThan(1);
    const started = Date.now();
    let requests = 0;
    for (const list of lists(world, log, await sourceOrder(), window)) {
      expect([list.path, list.expected.length > 5]).toEqual([list.path, true]);
      for (const limit of LIMITS) {
        const served = await pageThrough(get, list.path, limit, async () => void requests++);
        expect([list.path, limit, served.map(list.key as (item: unknown) => string)]).toEqual([list.path, limit, list.expected]);
      }
    }
    process.stdout.write(`deep paging on ${kind}: ${log.length} events, positions of ${[...digits].sort().join(' and ')} digits, ${requests} pages in ${Date.now() - started} ms\n`);
  }, 600_000);

  it('pages every list to the end while writes arrive: what existed before appears exactly once, in order', async () => {
    const before = lists(world, await readLog(), await sourceOrder(), window);
    const settled = new Set(world.claims.keys());
    let writing = true;
    let written = 0;
    // One write of each kind in turn, with a pause between, so that pages and writes interleave.
    const kinds = [
      (i: number) => world.source(i),
      (i: number) => world.article(i, 1),
      (i: number) => world.heavyClaim(i),
      (i: number) => world.historyEvent(i),
      (i: number) => world.quotes(ITEMS + i, 1, world.prolific),
    ];
    const writer = (async () => {
      for (let i = ITEMS; writing; i++, written++) {
        await kinds[i % kinds.length](i);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    const served = new Map<string, string[]>();
    try {
      for (const list of before) {
        const items = await pageThrough(get, list.path, DURING_WRITES_LIMIT);
        served.set(list.path, items.map(list.key as (item: unknown) => string));
      }
    } finally {
      writing = false;
      await writer;
    }
    expect(written).toBeGreaterThan(0);
    const after = lists(world, await readLog(), await sourceOrder(), window, settled);
    for (const [i, list] of before.entries()) {
      const servable = after[i].servable ?? after[i].expected;
      expect([list.path, checkServedDuringWrites(served.get(list.path)!, list.expected, servable)]).toEqual([list.path, []]);
    }
    process.stdout.write(`deep paging on ${kind}: ${written} writes while paging\n`);
  }, 600_000);
});
