import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { createApp } from '../../src/app/create-app';
import { Runtime, startRuntime } from '../../src/app/runtime';
import { signToken } from '../../src/auth/jwt';
import { readConfig } from '../../src/config/configuration';
import { Role } from '../../src/newsroom/actor';
import { createTestDatabase, TestDatabase } from './database';

export const TEST_SECRET = 'copydesk-test-secret-which-is-long-enough';

export interface TestApp {
  app: NestFastifyApplication;
  runtime: Runtime;
  db: TestDatabase;
  http: () => ReturnType<typeof request>;
  token(roles: Role[], id?: string, name?: string): string;
  /** Stops the app, keeps the database (for restart specs). */
  stop(): Promise<void>;
  close(): Promise<void>;
}

export interface TestAppOptions {
  /** Reuse a database (restart specs); else a fresh one. */
  db?: TestDatabase;
  /** Events in EventStoreDB at this connection string instead of the Postgres log. */
  eventStoreConnectionString?: string;
  /** More environment, e.g. RATE_LIMIT_WRITES_PER_MINUTE. */
  env?: Record<string, string>;
  /** A shorter request timeout than the 30 s default (transport specs). */
  requestTimeoutMs?: number;
}

/**
 * The real application on a fresh Postgres database: real pool, real event store, real HTTP stack,
 * connected as production connects: as a role that is not a superuser, migrations as the owner.
 */
export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const db = options.db ?? (await createTestDatabase());
  const dataDir = mkdtempSync(join(tmpdir(), 'copydesk-test-'));
  const config = readConfig({
    DATABASE_URL: db.appUrl,
    DATABASE_OWNER_URL: db.url,
    DATA_DIR: dataDir,
    AUTH_JWT_SECRET: TEST_SECRET,
    PORT: '0',
    ...(options.eventStoreConnectionString ? { EVENTSTORE_CONNECTION_STRING: options.eventStoreConnectionString } : {}),
    ...options.env,
  });
  const runtime = await startRuntime(config);
  const app = await createApp(runtime, { logLevel: 'silent', requestTimeoutMs: options.requestTimeoutMs });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await app.close();
    await runtime.close();
    rmSync(dataDir, { recursive: true, force: true });
  };
  return {
    app,
    runtime,
    db,
    http: () => request(app.getHttpServer()),
    token: (roles, id = `user-${roles.join('-')}`, name = `Test ${roles.join(' ')}`) => signToken(TEST_SECRET, { id, name, roles }),
    stop,
    close: async () => {
      await stop();
      if (!options.db) await db.drop();
    },
  };
}
