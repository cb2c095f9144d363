import { randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Runtime, startRuntime } from '../../src/app/runtime';
import { readConfig } from '../../src/config/configuration';
import { clusterDirOf } from '../../src/read-store/embedded/cluster-location';
import { TEST_SECRET } from '../support/app';
import { removeDataDir } from '../support/data-dir';

/** The postmaster's pid, from its lock file. */
const postmasterPid = (dataDir: string) => Number(readFileSync(join(clusterDirOf(dataDir), 'postmaster.pid'), 'utf8').split('\n')[0]);

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const refuses = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });

/** Until `probe` answers, at most `ms`; how long it took. */
async function until(probe: () => Promise<unknown>, ms: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    try {
      await probe();
      return Date.now() - started;
    } catch (error) {
      if (Date.now() - started > ms) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

describe('the embedded PostgreSQL killed under a running copydesk (the OOM killer, a crash)', () => {
  const root = mkdtempSync(join(tmpdir(), 'copydesk-restart-'));
  chmodSync(root, 0o755);
  const dataDir = join(root, 'data');
  const notices: string[] = [];
  let runtime: Runtime;
  let port: number;

  beforeAll(async () => {
    runtime = await startRuntime(readConfig({ DATA_DIR: dataDir, AUTH_JWT_SECRET: TEST_SECRET, LOG_LEVEL: 'info' }), { notice: (line) => notices.push(line) });
    port = Number(new URL(runtime.databaseUrl).port);
  }, 120_000);
  afterAll(async () => {
    await runtime?.close();
    removeDataDir(root, dataDir);
  });

  it('is started again on its port, twice over, with every acknowledged write kept; close then stops it for good', async () => {
    const stream = `article-${randomUUID()}`;
    for (const round of [1, 2]) {
      await runtime.eventStore.appendToStream(stream, [{ id: randomUUID(), type: 'Probe', data: { round }, metadata: {} }], { expectedRevision: round === 1 ? 'no_stream' : 0 });
      const killed = postmasterPid(dataDir);
      process.kill(killed, 'SIGKILL');
      notices.length = 0;
      // The pool's statements fail while it is down (its backends go with it), then succeed on the same URL.
      const runsAgain = `copydesk: the embedded PostgreSQL on 127.0.0.1:${port} runs again`;
      await until(async () => {
        if (!notices.includes(runsAgain)) throw new Error('not restarted yet');
        await runtime.pool.query('SELECT 1');
      }, 60_000);
      expect(postmasterPid(dataDir)).not.toBe(killed);
      expect(notices[0]).toBe(`copydesk: the embedded PostgreSQL on 127.0.0.1:${port} was killed by SIGKILL; starting it again`);
      expect(notices.at(-1)).toBe(runsAgain);
      // Crash recovery kept what was acknowledged.
      expect((await runtime.eventStore.readStream(stream)).map((event) => event.data.round)).toEqual(Array.from({ length: round }, (_, i) => i + 1));
    }
    const last = postmasterPid(dataDir);
    await runtime.close();
    expect(alive(last)).toBe(false);
    expect(await refuses(port)).toBe(true);
    // Stopped on purpose: not started again.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await refuses(port)).toBe(true);
  }, 180_000);
});
