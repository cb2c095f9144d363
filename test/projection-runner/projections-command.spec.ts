import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Runtime, startRuntime } from '../../src/app/runtime';
import { projectionsRebuild, projectionsStatus, progressLine } from '../../src/cli/projections.command';
import { readConfig } from '../../src/config/configuration';
import { startTestApp } from '../support/app';
import { createTestDatabase, TestDatabase } from '../support/database';
import { Newsroom, writeScenario } from '../support/newsroom';
import { eventually } from '../support/read-side';

class Capture {
  text = '';
  isTTY = false;
  write(chunk: string) {
    this.text += chunk;
    return true;
  }
}

describe('copydesk projections status / rebuild (server stopped, then running)', () => {
  let db: TestDatabase;
  let runtime: Runtime;
  let head: string;
  const dataDir = mkdtempSync(join(tmpdir(), 'copydesk-cli-'));

  beforeAll(async () => {
    db = await createTestDatabase();
    runtime = await startRuntime(readConfig({ DATABASE_URL: db.appUrl, DATABASE_OWNER_URL: db.url, DATA_DIR: dataDir, AUTH_JWT_SECRET: 'x'.repeat(40) }));
    head = (await writeScenario(new Newsroom(runtime.eventStore), 2)).last.position;
    // $all shows the writes once every transaction that began before them has ended, on the whole shared server:
    // under load from other suites, the status below could otherwise see a shorter log than the count after it.
    await eventually(() => runtime.eventStore.headPosition(), (position) => position === head, 30_000);
  });
  afterAll(async () => {
    await runtime.close();
    await db.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('status prints one line a projection: name, position, lag, status', async () => {
    const out = new Capture();
    const statuses = await projectionsStatus(runtime, out);
    const lines = out.text.trim().split('\n');
    expect(lines).toHaveLength(3);
    const events = (await runtime.eventStore.readAll({ maxCount: 10_000 })).length;
    expect(lines[0]).toMatch(new RegExp(`^articles\\s+-\\s+lag ${events}\\s+stopped$`));
    expect(statuses.map((s) => s.name)).toEqual(['articles', 'sources', 'audit']);
  });

  it('rebuild builds the named projections with no server running, with progress on stderr, and resolves when caught up', async () => {
    const err = new Capture();
    await projectionsRebuild(runtime, ['articles', 'sources'], { err, tickMs: 20 });
    expect(err.text).toMatch(/rebuilding articles, sources: \[#{30}\] \d+\/\d+ events {2}\d+ events\/s/);
    expect(err.text).toMatch(/rebuilt articles, sources in \d+s/);
    const out = new Capture();
    const statuses = await projectionsStatus(runtime, out);
    const byName = Object.fromEntries(statuses.map((s) => [s.name, s]));
    expect([byName.articles.position, byName.articles.lag, byName.articles.status]).toEqual([head, 0, 'stopped']);
    expect([byName.sources.position, byName.sources.lag]).toEqual([head, 0]);
    expect(byName.audit.position).toBeNull();
    expect(out.text).toContain(`articles  ${head}  lag 0`);
    await expect(projectionsRebuild(runtime, ['nope'], { err })).rejects.toThrow(/no projection named nope/);
  });

  /** The events each progress line counts: `done/total`. */
  const progress = (text: string) => [...text.matchAll(/\] (\d+)\/(\d+) events/g)].map((m) => [Number(m[1]), Number(m[2])]);

  it('progress counts each event once, however many projections share the pass over the log', async () => {
    const err = new Capture();
    await projectionsRebuild(runtime, [], { err, tickMs: 20 });
    // Counted after: $all shows events below the oldest transaction in flight on the server, so what a reader sees only grows.
    const events = (await runtime.eventStore.readAll({ maxCount: 10_000 })).length;
    const lines = progress(err.text);
    const [done, total] = lines[lines.length - 1];
    expect(done).toBe(total);
    expect(total).toBeGreaterThan(0);
    expect(total).toBeLessThanOrEqual(events);
  });

  it('with a server running, the server rebuilds and the command watches until it is done, showing its progress', async () => {
    const server = await startTestApp({ db });
    try {
      const err = new Capture();
      await projectionsRebuild(runtime, ['sources'], { err, tickMs: 20 });
      expect(err.text).toMatch(/rebuilt sources/);
      const events = (await runtime.eventStore.readAll({ maxCount: 10_000 })).length;
      const lines = progress(err.text);
      expect(lines.length).toBeGreaterThan(0);
      for (const [, total] of lines) expect(total).toBeGreaterThan(0);
      expect(lines[lines.length - 1][0]).toBe(lines[lines.length - 1][1]);
      expect(lines[lines.length - 1][1]).toBeLessThanOrEqual(events);
      const [sources] = (await server.runtime.pool.query(`SELECT position::text, rebuilt_at FROM projection_status WHERE name = 'sources'`)).rows;
      expect(sources.rebuilt_at).not.toBeNull();
      expect(BigInt(sources.position)).toBeGreaterThanOrEqual(BigInt(head));
    } finally {
      await server.stop();
    }
  });

  it('fails with the position and the error when a rebuild meets an event it cannot apply', async () => {
    const poisoned = randomUUID();
    const poison = await runtime.eventStore.appendToStream(`source-${poisoned}`, [{ id: randomUUID(), type: 'SourceRegistered', data: {}, metadata: {} }], {
      expectedRevision: 'no_stream',
    });
    await expect(projectionsRebuild(runtime, ['sources'], { err: new Capture(), tickMs: 20 })).rejects.toThrow(
      new RegExp(`rebuilding sources failed at position ${poison.position} \\(SourceRegistered`),
    );
  });

  it('draws a progress bar with rate and ETA', () => {
    expect(progressLine(50, 100, 1000, 10)).toBe('[#####-----] 50/100 events  50 events/s  ETA 1s');
    expect(progressLine(0, 0, 0, 10)).toBe('[----------] 0/0 events  0 events/s');
  });
});
