import { randomUUID } from 'node:crypto';
import { signToken } from '../../src/auth/jwt';
import { TEST_SECRET } from '../support/app';
import { createTestDatabase, TestDatabase } from '../support/database';
import { startServerProcess, ServerProcess } from '../support/server-process';
import { tempDirs } from '../support/data-dir';

/** Every line the server wrote on stdout, each parsed as JSON (a line that is not JSON fails the spec). */
function jsonLines(stdout: string): Record<string, unknown>[] {
  return stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        throw new Error(`not a JSON line on stdout: ${line}`);
      }
    });
}

const dataDirs = tempDirs('copydesk-logs-');
const tempDataDir = () => dataDirs.make();
afterAll(() => dataDirs.removeAll());

describe('logs: one JSON line per request and per notable event', () => {
  let db: TestDatabase;
  let server: ServerProcess;

  beforeAll(async () => {
    db = await createTestDatabase();
    server = await startServerProcess({ DATABASE_URL: db.appUrl, DATABASE_OWNER_URL: db.url, DATA_DIR: tempDataDir(), LOG_LEVEL: 'info' });
  });
  afterAll(async () => {
    await server?.kill('SIGTERM');
    await db?.drop();
  });

  it('writes only JSON on stdout, with reqId, correlationId, actor, route template, status and ms, and never a token or a body', async () => {
    const token = signToken(TEST_SECRET, { id: 'rita', name: 'Rita Reporter', roles: ['reporter'] });
    const correlation = `corr-${randomUUID()}`;
    const secretText = `body-text-${randomUUID()}`;
    const drafted = await fetch(`${server.url}/articles`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-correlation-id': correlation },
      body: JSON.stringify({ headline: 'Logged', body: secretText }),
    });
    expect(drafted.status).toBe(201);
    const { id } = (await drafted.json()) as { id: string };
    expect((await fetch(`${server.url}/articles/${id}`, { headers: { authorization: `Bearer ${token}` } })).status).toBeLessThan(500);
    expect((await fetch(`${server.url}/articles`, { headers: { authorization: 'Bearer not-a-token' } })).status).toBe(401);
    expect((await fetch(`${server.url}/no-such-route/${randomUUID()}`)).status).toBe(404);
    await new Promise((resolve) => setTimeout(resolve, 300));

    const stdout = server.stdout();
    const lines = jsonLines(stdout);
    const requests = lines.filter((l) => l.msg === 'request');
    expect(requests.length).toBeGreaterThanOrEqual(4);
    for (const line of requests) {
      expect(line).toEqual(
        expect.objectContaining({ level: expect.any(Number), time: expect.any(String), reqId: expect.any(String), correlationId: expect.any(String), status: expect.any(Number), ms: expect.any(Number) }),
      );
      expect(line).toHaveProperty('actor');
      expect(line).toHaveProperty('route');
    }
    expect(requests.find((l) => l.correlationId === correlation)).toMatchObject({ actor: 'rita', method: 'POST', route: '/articles', status: 201 });
    expect(requests.find((l) => l.route === '/articles/:id')).toMatchObject({ actor: 'rita', method: 'GET' });
    expect(requests.find((l) => l.status === 401)).toMatchObject({ actor: null, route: '/articles' });
    expect(requests.find((l) => l.status === 404 && l.route === null)).toBeDefined();
    // A request without X-Correlation-Id is correlated by its own id.
    const unmarked = requests.find((l) => l.status === 401)!;
    expect(unmarked.correlationId).toBe(unmarked.reqId);
    // The start-up is in the same format (Nest's lines included), and nothing else is on stdout.
    expect(lines.some((l) => l.msg !== 'request')).toBe(true);
    expect(stdout).not.toContain(token);
    expect(stdout).not.toContain(token.split('.')[2]);
    expect(stdout).not.toContain('not-a-token');
    expect(stdout).not.toContain(secretText);
    expect(stdout).not.toMatch(/\x1b\[/);
    expect(stdout.toLowerCase()).not.toContain('authorization');
  });
});

describe('LOG_FORMAT=pretty', () => {
  it('writes the same records for people: not JSON, with the route and status', async () => {
    const db = await createTestDatabase();
    const server = await startServerProcess({ DATABASE_URL: db.appUrl, DATABASE_OWNER_URL: db.url, DATA_DIR: tempDataDir(), LOG_LEVEL: 'info', LOG_FORMAT: 'pretty' });
    try {
      expect((await fetch(`${server.url}/health`)).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const stdout = server.stdout();
      const line = stdout.split('\n').find((l) => l.includes('request') && l.includes('/health'));
      expect(line).toBeDefined();
      expect(() => JSON.parse(line!)).toThrow();
      expect(line).toMatch(/"status":200/);
    } finally {
      await server.kill('SIGTERM');
      await db.drop();
    }
  });
});
