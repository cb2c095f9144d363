import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { PROJECTIONS, articlesProjection } from '../../projections';
import { Projection } from '../../projections/projection';
import { ARTICLE_EVENT_TYPES } from '../../src/newsroom/article/article.decider';
import { SOURCE_EVENT_TYPES } from '../../src/newsroom/source/source.decider';
import { GetArticle, GetArticleHandler, ListArticles, ListArticlesHandler } from '../../src/read-store/queries/articles.queries';
import { ReadModels } from '../../src/read-store/read-models';
import { Newsroom, REPORTER, writeScenario } from '../support/newsroom';
import { ReadSideDb, checkpoint, cleanModel, dumpModel, eventually, readSideDb } from '../support/read-side';

async function draftMany(newsroom: Newsroom, n: number, prefix: string): Promise<string> {
  let position = '';
  for (let i = 0; i < n; i++) {
    const id = newsroom.id(`${prefix}-${i}`);
    await newsroom.article(id, { type: 'DraftArticle', data: { articleId: id, headline: `${prefix} ${i}`, body: `Body ${i}.`, byline: null, desk: null } }, REPORTER);
    position = (await newsroom.article(id, { type: 'TagTopic', data: { label: prefix } })).position;
  }
  return position;
}

async function status(pool: Pool, name: string) {
  const { rows } = await pool.query('SELECT * FROM projection_status WHERE name = $1', [name]);
  return rows[0];
}

describe('projection runner: rebuilds', () => {
  let rs: ReadSideDb;
  let newsroom: Newsroom;
  let models: ReadModels;

  beforeAll(async () => {
    rs = await readSideDb();
    newsroom = new Newsroom(rs.store);
    models = new ReadModels(rs.pool);
    await writeScenario(newsroom, 2, 'seed');
    const last = await draftMany(newsroom, 40, 'seed-draft');
    // $all shows the writes once every transaction that began before them has ended, on the whole shared server.
    await eventually(() => rs.store.headPosition(), (head) => head === last, 30_000);
  });
  afterAll(async () => {
    await rs.close();
  });

  const countArticles = async () => (await new ListArticlesHandler(models).execute(new ListArticles({}, { limit: 200, after: null }))).value.items.length;

  it('builds beside the live tables and swaps: concurrent reads never see fewer articles, and see "rebuilding" meanwhile', async () => {
    const runner = rs.runner({ rebuildBatchSize: 3, retiredSchemaGraceMs: 300 });
    await runner.start();
    const head = (await rs.store.headPosition())!;
    expect((await runner.waitForPosition(head, 10_000)).reached).toBe(true);
    const before = await countArticles();
    const liveBefore = (await status(rs.pool, 'articles')).schema_name;

    const requested = await runner.requestRebuild('articles');
    let done = false;
    const counts: number[] = [];
    const states = new Set<string>();
    const reader = (async () => {
      while (!done) {
        counts.push(await countArticles());
        states.add((await runner.status(['articles']))[0].status);
      }
    })();
    // Writes keep coming during the rebuild.
    const writes = draftMany(newsroom, 5, 'during');
    await eventually(
      () => status(rs.pool, 'articles'),
      (s) => s.rebuilt_at !== null && s.rebuilt_at >= requested && s.build_schema === null,
      20_000,
    );
    const lastWrite = await writes;
    expect((await runner.waitForPosition(lastWrite, 10_000)).reached).toBe(true);
    done = true;
    await reader;

    expect(counts.length).toBeGreaterThan(3);
    for (let i = 0; i < counts.length; i++) expect(counts[i]).toBeGreaterThanOrEqual(i === 0 ? before : counts[i - 1]);
    expect(await countArticles()).toBe(before + 5);
    expect(states.has('rebuilding')).toBe(true);
    const after = await status(rs.pool, 'articles');
    expect(after.schema_name).not.toBe(liveBefore);
    expect(after.error).toBeNull();
    expect(await dumpModel(rs.pool, articlesProjection)).toEqual(await cleanModel(rs, articlesProjection));
    // The old tables stay for readers that already looked them up, then go.
    await eventually(
      async () => (await rs.pool.query('SELECT 1 FROM information_schema.schemata WHERE schema_name = $1', [liveBefore])).rowCount,
      (n) => n === 0,
    );
    await runner.stop();
  });

  it('raising a version rebuilds at start-up while the old version keeps answering, then swaps it in', async () => {
    const [v1, V2] = [articlesProjection.version, articlesProjection.version + 1];
    const v2: Projection = { ...articlesProjection, version: V2, tables: [...articlesProjection.tables, 'CREATE INDEX ON {articles} (status)'] };
    const oldSchema = (await status(rs.pool, 'articles')).schema_name;
    const observed: { version: number; status: string; count: number }[] = [];
    const runner = rs.runner({ projections: [v2, ...PROJECTIONS.filter((p) => p.name !== 'articles')], rebuildBatchSize: 2 });
    await runner.start();
    for (const deadline = Date.now() + 30_000; ; ) {
      const row = await status(rs.pool, 'articles');
      observed.push({ version: row.version, status: (await runner.status(['articles']))[0].status, count: await countArticles() });
      if (row.version === V2) break;
      if (Date.now() > deadline) throw new Error(`version ${V2} not swapped in within 30 s; last seen ${JSON.stringify(observed.at(-1))}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const total = observed[0].count;
    expect(observed.some((o) => o.version === v1 && o.status === 'rebuilding' && o.count === total)).toBe(true);
    expect(observed.every((o) => o.count === total)).toBe(true);
    const row = await status(rs.pool, 'articles');
    expect(row.schema_name).toMatch(new RegExp(`^rm_articles_v${V2}_\\d+$`));
    expect(row.schema_name).not.toBe(oldSchema);
    const { rows: indexes } = await rs.pool.query(`SELECT indexdef FROM pg_indexes WHERE schemaname = $1 AND indexdef LIKE '%(status)%'`, [row.schema_name]);
    expect(indexes).toHaveLength(1);
    expect(await dumpModel(rs.pool, v2)).toEqual(await cleanModel(rs, v2));
    await runner.stop();
  });

  it('a rebuild whose runner dies is resumed from its own checkpoint by the next one', async () => {
    const articles = PROJECTIONS.filter((p) => p.name === 'articles').map((p) => ({ ...p, version: p.version + 1 }));
    const victimPool = new Pool({ connectionString: rs.db.url, application_name: 'rebuild-victim' });
    victimPool.on('error', () => undefined);
    let batches = 0;
    let killed!: () => void;
    const kill = new Promise<void>((resolve) => (killed = resolve));
    const victim = rs.runner({
      pool: victimPool,
      projections: articles,
      rebuildBatchSize: 4,
      applicationName: 'rebuild-victim',
      retryBaseMs: 60_000,
      onBatchCommitted: (_, phase) => {
        if (phase === 'rebuild' && ++batches === 5) killed();
      },
    });
    await victim.start();
    await victim.requestRebuild('articles');
    await kill;
    await rs.pool.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'rebuild-victim' AND datname = current_database()`);
    const interrupted = await status(rs.pool, 'articles');
    expect(interrupted.build_schema).not.toBeNull();
    expect(Number(interrupted.build_done)).toBeGreaterThanOrEqual(20);

    let resumedFrom: string | null = null;
    const successor = rs.runner({
      projections: articles,
      rebuildBatchSize: 4,
      onBatchCommitted: (_, phase, events) => {
        if (phase === 'rebuild' && resumedFrom === null) resumedFrom = events[0].position;
      },
    });
    await successor.start();
    await eventually(
      () => status(rs.pool, 'articles'),
      (s) => s.build_schema === null && s.schema_name === interrupted.build_schema,
      20_000,
    );
    // It carried on after the events the dead runner had committed to the build, not from the first event.
    expect(BigInt(resumedFrom!) > BigInt(interrupted.build_position)).toBe(true);
    expect(await checkpoint(rs.pool, 'articles')).toBe(await rs.store.headPosition());
    expect(await dumpModel(rs.pool, articlesProjection)).toEqual(await cleanModel(rs, articlesProjection));
    const first = (await rs.store.readAll({ maxCount: 200 })).find((e) => e.type === 'ArticleDrafted')!;
    const { value } = await new GetArticleHandler(models).execute(new GetArticle(first.streamId.slice('article-'.length)));
    expect(value.revision).toBeGreaterThan(0);
    await successor.stop();
    await victim.stop();
    await victimPool.end();
  });

  it('the swap applies what arrived while the indexes were built; a batch there that fails as a whole but applies one at a time stands, with a warning', async () => {
    // A projection whose live apply gets batches of several events wrong, though each one alone is right;
    // a bulk load (the build) it gets right. Version 2 adds an index that takes a while to build.
    const seenTable = 'CREATE TABLE {seen} (position numeric PRIMARY KEY)';
    const v1: Projection = {
      name: 'fragile',
      version: 1,
      tables: [seenTable],
      types: new Set([...ARTICLE_EVENT_TYPES, ...SOURCE_EVENT_TYPES]),
      catchAll: true,
      apply: async (events, sql) => {
        for (const event of events) await sql('INSERT INTO {seen} (position) VALUES ($1)', [event.position]);
      },
    };
    await rs.pool.query(
      `CREATE OR REPLACE FUNCTION slow_identity(numeric) RETURNS numeric IMMUTABLE LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(0.02); RETURN $1; END $$`,
    );
    const v2: Projection = {
      ...v1,
      version: 2,
      indexes: ['CREATE INDEX IF NOT EXISTS seen_slowly ON {seen} (slow_identity(position))'],
      apply: async (events, sql, context) => {
        if (!context?.bulk && events.length > 1) throw new Error('a combination the set-based apply gets wrong');
        return v1.apply(events, sql, context);
      },
    };
    const first = rs.runner({ projections: [v1] });
    await first.start();
    expect((await first.waitForPosition((await rs.store.headPosition())!, 10_000)).reached).toBe(true);
    await first.stop();

    const said: string[] = [];
    const runner = rs.runner({
      projections: [v2],
      logger: { log: (m) => said.push(`log: ${m}`), warn: (m) => said.push(`warn: ${m}`), error: (m) => said.push(`error: ${m}`) },
    });
    await runner.start();
    // The build has caught up and is building its index: these events reach it only through the swap.
    await eventually(
      async () => (await rs.pool.query(`SELECT 1 FROM pg_stat_activity WHERE state = 'active' AND query LIKE 'CREATE INDEX%seen_slowly%'`)).rowCount,
      (n) => n === 1,
      20_000,
    );
    const during = await draftMany(newsroom, 2, 'during-index');
    const swapped = await eventually(() => status(rs.pool, 'fragile'), (s) => s.version === 2 && s.build_schema === null, 20_000);
    // The swap itself took them: its checkpoint is the last of them, and they were never fed live.
    expect(swapped.position).toBe(during);
    const warning = said.indexOf('warn: projection fragile: a batch of 4 events failed as a whole but applied one event at a time');
    const done = said.findIndex((m) => /^log: projection fragile: rebuilt and swapped in /.test(m));
    expect(warning).toBeGreaterThanOrEqual(0);
    expect(done).toBeGreaterThan(warning);
    expect(said.filter((m) => m.startsWith('warn: ') || m.startsWith('error: '))).toHaveLength(1);
    // What one at a time gives stands: every event of the log, once.
    const { rows } = await rs.pool.query(`SELECT count(*)::int AS n, count(*) FILTER (WHERE position = $1)::int AS last FROM "${swapped.schema_name}".seen`, [during]);
    expect(rows[0]).toEqual({ n: (await rs.store.readAll({ maxCount: 1_000_000 })).length, last: 1 });
    await runner.stop();
  });

  it('a rebuild that fails on an event, past pages whose documents it held in memory, keeps every event before it', async () => {
    // Last in this file: the log keeps the poison.
    const articles = PROJECTIONS.filter((p) => p.name === 'articles').map((p) => ({ ...p, version: p.version + 2 }));
    const before = await rs.store.headPosition();
    const poisoned = randomUUID();
    const poison = await rs.store.appendToStream(
      `article-${poisoned}`,
      [{ id: randomUUID(), type: 'ArticleDrafted', data: { articleId: poisoned, body: 'No headline.' }, metadata: { occurredAt: new Date().toISOString() } }],
      { expectedRevision: 'no_stream' },
    );
    // Pages of 4: the build holds the documents of the pages before the poison's in memory, unwritten.
    const runner = rs.runner({ projections: articles, rebuildBatchSize: 4, retryBaseMs: 60_000 });
    await runner.start();
    const failed = await eventually(() => status(rs.pool, 'articles'), (s) => s.build_error !== null, 20_000);
    await runner.stop();
    expect(failed.build_error).toMatchObject({ phase: 'rebuild', position: poison.position, eventType: 'ArticleDrafted' });
    // Everything before it was written with the failure, and the checkpoint says so.
    expect(failed.build_position).toBe(before);
    expect(await dumpModel(rs.pool, articlesProjection, failed.build_schema)).toEqual(await cleanModel(rs, articlesProjection, before));
  });
});
