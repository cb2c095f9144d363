import { randomInt } from 'node:crypto';
import { Pool } from 'pg';
import { signToken } from '../../src/auth/jwt';
import { TEST_SECRET } from '../support/app';
import { createTestDatabase, TestDatabase } from '../support/database';
import { ServerProcess, startServerProcess } from '../support/server-process';
import { commandIdOf } from '../support/command-ids';

const WRITERS = 16;
const ROUNDS = 5;

interface Pending {
  key: string;
  path: string;
  body: object;
}

/** One editor hammering their own article with idempotent commands, resending what was never answered. */
class Writer {
  readonly actor: string;
  readonly token: string;
  articleId = '';
  next = 0;
  pending: Pending | null = null;
  readonly acknowledged = new Map<string, { position: string; revision: number }>();

  constructor(readonly n: number) {
    this.actor = `writer-${n}`;
    this.token = signToken(TEST_SECRET, { id: this.actor, name: `Writer ${n}`, roles: ['reporter'] });
  }

  private nextCommand(): Pending {
    const i = this.next++;
    const key = `${this.actor}-${i}`;
    return i % 3 === 2
      ? { key, path: `/articles/${this.articleId}/claims`, body: { text: `Claim ${i} of ${this.actor}` } }
      : { key, path: `/articles/${this.articleId}/topics`, body: { topic: `${this.actor} topic ${i}` } };
  }

  /** Sends until the server dies (a request that fails is kept and resent later with the same key). */
  async run(server: ServerProcess, until: () => boolean): Promise<void> {
    while (!until()) {
      const command = this.pending ?? this.nextCommand();
      this.pending = command;
      let res: Response;
      try {
        res = await fetch(server.url + command.path, {
          method: 'POST',
          headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json', 'idempotency-key': command.key },
          body: JSON.stringify(command.body),
        });
      } catch {
        return;
      }
      if (res.status === 503) return;
      const body = (await res.json().catch(() => null)) as { position: string; revision: number } | null;
      if (res.status >= 200 && res.status < 300 && body) {
        this.acknowledged.set(command.key, { position: body.position, revision: body.revision });
        this.pending = null;
      } else if (res.status >= 500 || !body) {
        return;
      } else {
        throw new Error(`unexpected ${res.status} ${JSON.stringify(body)} for ${command.path}`);
      }
    }
  }
}

async function json(server: ServerProcess, token: string, path: string, init: RequestInit = {}) {
  const res = await fetch(server.url + path, { ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...(init.headers ?? {}) } });
  return { status: res.status, body: (await res.json()) as any };
}

describe('crash safety: SIGKILL under 16 concurrent writers', () => {
  let db: TestDatabase;
  let pool: Pool;
  let server: ServerProcess | null = null;
  const writers = Array.from({ length: WRITERS }, (_, n) => new Writer(n));
  const admin = signToken(TEST_SECRET, { id: 'admin', name: 'Admin', roles: ['admin'] });
  const env = () => ({ DATABASE_URL: db.url, RATE_LIMIT_WRITES_PER_MINUTE: '1000000' });

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = new Pool({ connectionString: db.url });
  });
  afterAll(async () => {
    await server?.kill();
    await pool.end();
    await db.drop();
  });

  it(`loses and doubles nothing that was acknowledged over ${ROUNDS} kills, one of them during a rebuild`, async () => {
    server = await startServerProcess(env());
    for (const writer of writers) {
      const res = await json(server, writer.token, '/articles', { method: 'POST', body: JSON.stringify({ headline: `Crash ${writer.n}`, body: 'Body.' }) });
      expect(res.status).toBe(201);
      writer.articleId = res.body.id;
    }

    for (let round = 0; round < ROUNDS; round++) {
      server ??= await startServerProcess(env());
      const live = server;
      let dead = false;
      const work = Promise.all(writers.map((w) => w.run(live, () => dead)));
      if (round === 2) {
        const projections = await json(live, admin, '/admin/projections');
        for (const p of projections.body.items) await json(live, admin, `/admin/projections/${p.name}/rebuild`, { method: 'POST' });
      }
      await new Promise((resolve) => setTimeout(resolve, randomInt(300, 1500)));
      await live.kill('SIGKILL');
      dead = true;
      await work;
      server = null;
    }

    server = await startServerProcess(env());
    const final = server;
    await Promise.all(writers.map((w) => w.run(final, () => w.pending === null)));

    const acknowledged = writers.reduce((n, w) => n + w.acknowledged.size, 0);
    expect(acknowledged).toBeGreaterThan(WRITERS * ROUNDS);

    // In the log exactly once, and no stream has a gap.
    const counts = await pool.query<{ command_id: string; n: string }>(
      `SELECT metadata->>'commandId' AS command_id, count(*) AS n FROM events GROUP BY 1`,
    );
    const byCommand = new Map(counts.rows.map((r) => [r.command_id, Number(r.n)]));
    for (const w of writers)
      for (const key of w.acknowledged.keys()) expect([key, byCommand.get(await commandIdOf(pool, w.actor, key))]).toEqual([key, 1]);
    expect(counts.rows.filter((r) => Number(r.n) > 1)).toEqual([]);
    const gaps = await pool.query(`SELECT stream_id FROM events GROUP BY stream_id HAVING count(*) <> max(revision) + 1 OR min(revision) <> 0`);
    expect(gaps.rows).toEqual([]);

    // In every read model exactly once.
    for (const w of writers) {
      const stream = await pool.query<{ type: string; n: string }>(`SELECT type, count(*) AS n FROM events WHERE stream_id = $1 GROUP BY type`, [`article-${w.articleId}`]);
      const ofType = (type: string) => Number(stream.rows.find((r) => r.type === type)?.n ?? 0);
      const head = await pool.query<{ position: string }>(`SELECT max(position) AS position FROM events`);
      const article = await json(final, w.token, `/articles/${w.articleId}`, { headers: { 'x-wait-for-position': head.rows[0].position } });
      expect(article.status).toBe(200);
      expect(article.body.topics).toHaveLength(ofType('TopicTagged'));
      expect(article.body.claims).toHaveLength(ofType('ClaimRecorded'));
      expect(article.body.revision).toBe(ofType('TopicTagged') + ofType('ClaimRecorded'));
      const history = await json(final, w.token, `/articles/${w.articleId}/history?limit=200`, { headers: { 'x-wait-for-position': head.rows[0].position } });
      const revisions = history.body.items.map((e: { revision: number }) => e.revision);
      expect(revisions).toEqual(Array.from({ length: Math.min(200, article.body.revision + 1) }, (_, i) => i));
    }
    const audit = await pool.query(`SELECT count(*) AS n FROM events`);
    // The rebuild interrupted in round 3 resumes after the restarts and finishes: every projection ends up running.
    let status = await json(final, admin, '/admin/projections');
    for (const deadline = Date.now() + 60000; Date.now() < deadline; ) {
      if (status.body.items.every((p: { status: string }) => p.status === 'running')) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
      status = await json(final, admin, '/admin/projections');
    }
    for (const p of status.body.items) expect([p.name, p.status, p.error]).toEqual([p.name, 'running', null]);
    process.stdout.write(`crash safety: ${ROUNDS} rounds, ${acknowledged} writes acknowledged, 0 lost, 0 duplicated, ${audit.rows[0].n} events\n`);
  }, 300000);
});
