import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { MAX_TOKEN_LIFETIME_SECONDS, parseTtl, signToken, verifyToken } from '../../src/auth/jwt';
import { main } from '../../src/cli/main';
import { ConfigError, readConfig } from '../../src/config/configuration';
import { TEST_SECRET } from '../support/app';
import { tempDirs } from '../support/data-dir';
import { createTestDatabase, TestDatabase } from '../support/database';
import { startServerProcess } from '../support/server-process';

const MAIN = join(__dirname, '..', '..', 'src', 'cli', 'main.ts');

/** Resolves with the connection's outcome: 'connected' or the error code. */
function tryConnect(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, host);
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
  });
}

describe('copydesk serve: where it listens, what it says, what it refuses to start with', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  const dataDirs = tempDirs('copydesk-serve-');
  afterAll(async () => {
    await db.drop();
    dataDirs.removeAll();
  });
  const env = () => ({ DATABASE_URL: db.url, DATA_DIR: dataDirs.make() });

  it('listens on 127.0.0.1 unless HOST says otherwise, and prints the address it really listens on', async () => {
    const server = await startServerProcess(env());
    try {
      expect(server.output()).toContain(`copydesk listening on http://127.0.0.1:${server.port} `);
      expect(await tryConnect('127.0.0.1', server.port)).toBe('connected');
      const outside = Object.values(networkInterfaces())
        .flat()
        .find((a) => a && a.family === 'IPv4' && !a.internal);
      if (outside) expect(await tryConnect(outside.address, server.port)).toBe('ECONNREFUSED');
    } finally {
      await server.kill();
    }
    const everywhere = await startServerProcess({ ...env(), HOST: '0.0.0.0' });
    try {
      expect(everywhere.output()).toContain(`copydesk listening on http://0.0.0.0:${everywhere.port} (every interface)`);
      expect(await tryConnect('127.0.0.1', everywhere.port)).toBe('connected');
    } finally {
      await everywhere.kill();
    }
  }, 120_000);

  it('reads REBUILD_PAGE_EVENTS, 2000 by default, refusing what is no count of events from 100 to 100000', () => {
    const secret = { AUTH_JWT_SECRET: 'x'.repeat(32) };
    expect(readConfig(secret).rebuildPageEvents).toBe(2000);
    expect(readConfig({ ...secret, REBUILD_PAGE_EVENTS: '10000' }).rebuildPageEvents).toBe(10_000);
    for (const bad of ['0', '99', '100001', '2e3x', '1.5', '-5'])
      expect(() => readConfig({ ...secret, REBUILD_PAGE_EVENTS: bad })).toThrow(/^REBUILD_PAGE_EVENTS must be/);
  });

  it('refuses to start with an AUTH_JWT_SECRET shorter than 32 bytes, saying so in one sentence', async () => {
    expect(() => readConfig({ AUTH_JWT_SECRET: 'a' })).toThrow(ConfigError);
    expect(() => readConfig({ AUTH_JWT_SECRET: 'x'.repeat(31) })).toThrow('AUTH_JWT_SECRET must be at least 32 bytes long');
    expect(readConfig({ AUTH_JWT_SECRET: 'x'.repeat(32) }).jwtSecret).toBe('x'.repeat(32));
    // Bytes, not characters: 16 characters that are 32 bytes in UTF-8 will do, 16 that are 31 will not.
    expect(readConfig({ AUTH_JWT_SECRET: 'é'.repeat(16) }).jwtSecret).toBe('é'.repeat(16));
    expect(() => readConfig({ AUTH_JWT_SECRET: `${'é'.repeat(15)}a` })).toThrow(ConfigError);
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', MAIN, 'serve'], {
      env: { ...process.env, ...env(), AUTH_JWT_SECRET: 'a', PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).not.toBe(0);
    expect(output).toContain('AUTH_JWT_SECRET must be at least 32 bytes long');
    expect(output).not.toContain('listening');
  }, 60_000);

  it('copydesk token refuses a --ttl beyond 30 days, or without a unit, as a usage error', async () => {
    for (const ttl of ['5y', '31d', '5w', '3600', '0h', '-1h', '1e3s', '8 hours']) {
      await expect(main(['token', '--sub', 'rita', '--name', 'Rita', '--role', 'reporter', `--ttl=${ttl}`])).rejects.toThrow(/--ttl takes a duration from 1s to 30d/);
    }
    expect([parseTtl('30m'), parseTtl('8h'), parseTtl('30d'), parseTtl('4w')]).toEqual([1800, 28800, MAX_TOKEN_LIFETIME_SECONDS, 4 * 7 * 86400]);
    expect(() => signToken(TEST_SECRET, { id: 'rita', name: 'Rita', roles: ['reporter'] }, '5y')).toThrow(RangeError);
    const longest = signToken(TEST_SECRET, { id: 'rita', name: 'Rita', roles: ['reporter'] }, '30d');
    expect(verifyToken(TEST_SECRET, longest).id).toBe('rita');
  });
});
