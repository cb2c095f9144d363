import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { OidcConfig } from '../auth/oidc';

/** The configuration table of API.md, read once from the environment. */
export interface CopydeskConfig {
  port: number;
  dataDir: string;
  /** Unset: the embedded PostgreSQL under `dataDir`. */
  databaseUrl: string | undefined;
  /** With `databaseUrl`: the role migrations run as (owner of the tables); unset: `databaseUrl`'s. */
  databaseOwnerUrl: string | undefined;
  /** Unset: events go to the Postgres event log. */
  eventStoreConnectionString: string | undefined;
  /** Unset: generated once into `dataDir`. */
  jwtSecret: string | undefined;
  logLevel: string;
  /** `json` (one JSON line per record) or `pretty` (for people). */
  logFormat: 'json' | 'pretty';
  /** Writes one actor may make per minute (429 beyond). */
  writesPerMinute: number;
  /** Origins allowed by CORS; empty: no cross-origin access. */
  corsOrigins: string[];
  /** The address the HTTP server listens on. */
  host: string;
  /** Whom to believe about X-Forwarded-For/-Proto (Fastify's `trustProxy`); false: nobody. */
  trustProxy: boolean | number | string[];
  /** `METRICS=off`: no metrics recorded and `GET /metrics` answers 404 (to measure what they cost). */
  metrics: boolean;
  /** OpenID Connect tokens (AUTH_ISSUER …) besides HS256; unset: HS256 only. */
  oidc: OidcConfig | undefined;
  /** The base of links the API hands out (ninjs, ClaimReview, webhooks), without a trailing slash. */
  publicUrl: string;
  /** The newsroom's name, as author of ClaimReview documents. */
  organization: string;
  webhooks: WebhookSettings;
  /**
   * Events a rebuild (and a fresh server's bulk catch-up) reads and applies a transaction: larger pages
   * hold more in memory (README).
   */
  rebuildPageEvents: number;
}

/** Webhook delivery; only `allowPrivate` is API.md's, the rest are for tests and operators (README). */
export interface WebhookSettings {
  /** `WEBHOOK_ALLOW_PRIVATE=true`: destinations on loopback and private networks are allowed. */
  allowPrivate: boolean;
  /** One attempt's limit (`WEBHOOK_TIMEOUT_MS`, default 10 s). */
  timeoutMs: number;
  /** The first retry's delay and the longest (`WEBHOOK_RETRY_BASE_MS` 1 s, `WEBHOOK_RETRY_MAX_MS` 10 min). */
  retryBaseMs: number;
  retryMaxMs: number;
  /** Failing this long, a subscription is disabled (`WEBHOOK_DISABLE_AFTER_MS`, default 24 h). */
  disableAfterMs: number;
}

export class ConfigError extends Error {}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function positiveInteger(name: string, value: string | undefined, fallback: number): number {
  if (nonEmpty(value) === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new ConfigError(`${name} must be a positive integer, got ${value}`);
  return n;
}

/** `REBUILD_PAGE_EVENTS`: 100 to 100,000 events, 2,000 by default. */
function rebuildPageEvents(value: string | undefined): number {
  const n = positiveInteger('REBUILD_PAGE_EVENTS', value, 2000);
  if (n < 100 || n > 100_000) throw new ConfigError(`REBUILD_PAGE_EVENTS must be between 100 and 100000, got ${value}`);
  return n;
}

/** HS256 needs a key at least as long as its hash (RFC 7518 §3.2). */
export const MIN_JWT_SECRET_BYTES = 32;

function jwtSecret(value: string | undefined): string | undefined {
  const secret = nonEmpty(value);
  if (secret !== undefined && Buffer.byteLength(secret, 'utf8') < MIN_JWT_SECRET_BYTES)
    throw new ConfigError(`AUTH_JWT_SECRET must be at least ${MIN_JWT_SECRET_BYTES} bytes long (or unset, to use one generated into DATA_DIR)`);
  return secret;
}

function onOff(name: string, value: string | undefined, fallback: boolean): boolean {
  const text = nonEmpty(value)?.toLowerCase();
  if (text === undefined) return fallback;
  if (['on', 'true', '1'].includes(text)) return true;
  if (['off', 'false', '0'].includes(text)) return false;
  throw new ConfigError(`${name} must be on or off, got ${value}`);
}

const LOG_LEVELS = ['silent', 'fatal', 'error', 'warn', 'info', 'debug', 'trace'];

function logLevel(value: string | undefined): string {
  const level = nonEmpty(value)?.toLowerCase() ?? 'info';
  if (!LOG_LEVELS.includes(level)) throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got ${value}`);
  return level;
}

function logFormat(value: string | undefined): 'json' | 'pretty' {
  const format = nonEmpty(value)?.toLowerCase() ?? 'json';
  if (format !== 'json' && format !== 'pretty') throw new ConfigError(`LOG_FORMAT must be json or pretty, got ${value}`);
  return format;
}

function httpUrl(name: string, value: string | undefined): string | undefined {
  const text = nonEmpty(value);
  if (text === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError(`${name} must be an http(s) URL, got ${text}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ConfigError(`${name} must be an http(s) URL, got ${text}`);
  return text;
}

/**
 * API.md's OpenID Connect settings. Tokens' `iss` and `aud` are always checked, so AUTH_ISSUER and
 * AUTH_AUDIENCE are both needed once any of them is set.
 */
function oidcConfig(env: NodeJS.ProcessEnv): OidcConfig | undefined {
  const issuer = httpUrl('AUTH_ISSUER', env.AUTH_ISSUER);
  const jwksUrl = httpUrl('AUTH_JWKS_URL', env.AUTH_JWKS_URL);
  const audience = nonEmpty(env.AUTH_AUDIENCE);
  const rolesClaim = nonEmpty(env.AUTH_ROLES_CLAIM);
  const nameClaim = nonEmpty(env.AUTH_NAME_CLAIM);
  if (!issuer && !jwksUrl && !audience && !rolesClaim && !nameClaim) return undefined;
  if (!issuer) throw new ConfigError('OpenID Connect needs AUTH_ISSUER (tokens\' iss is checked against it; AUTH_JWKS_URL only says where its keys are)');
  if (!audience) throw new ConfigError('OpenID Connect needs AUTH_AUDIENCE (tokens\' aud is checked against it)');
  if (rolesClaim !== undefined && !/^[^.\s]+(\.[^.\s]+)*$/.test(rolesClaim)) throw new ConfigError(`AUTH_ROLES_CLAIM must be a claim name or a dotted path such as realm_access.roles, got ${rolesClaim}`);
  return { issuer, jwksUrl, audience, rolesClaim: rolesClaim ?? 'roles', nameClaim };
}

function trustProxy(value: string | undefined): boolean | number | string[] {
  const text = nonEmpty(value);
  if (text === undefined || text === 'false') return false;
  if (text === 'true') return true;
  if (/^\d{1,2}$/.test(text)) return Number(text);
  return text.split(',').map((a) => a.trim()).filter(Boolean);
}

function booleanFlag(name: string, value: string | undefined): boolean {
  const text = nonEmpty(value)?.toLowerCase();
  if (text === undefined || text === 'false' || text === '0') return false;
  if (text === 'true' || text === '1') return true;
  throw new ConfigError(`${name} must be true or false, got ${value}`);
}

function publicUrl(value: string | undefined, port: number): string {
  const text = nonEmpty(value);
  if (text === undefined) return `http://localhost:${port}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError(`PUBLIC_URL must be an http(s) URL, got ${value}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(`PUBLIC_URL must be an http(s) URL, got ${value}`);
  return url.href.replace(/\/+$/, '');
}

export function readConfig(env: NodeJS.ProcessEnv = process.env): CopydeskConfig {
  const port = Number(env.PORT ?? '3000');
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`PORT must be a TCP port, got ${env.PORT}`);
  const esdb = nonEmpty(env.EVENTSTORE_CONNECTION_STRING);
  if (esdb && !/^(esdb|esdb\+discover|kurrentdb|kurrentdb\+discover|kdb):\/\//.test(esdb))
    throw new ConfigError('EVENTSTORE_CONNECTION_STRING must look like esdb://host:2113?tls=false');
  const databaseOwnerUrl = nonEmpty(env.DATABASE_OWNER_URL);
  if (databaseOwnerUrl && !nonEmpty(env.DATABASE_URL)) throw new ConfigError('DATABASE_OWNER_URL needs DATABASE_URL (the embedded PostgreSQL manages its own roles)');
  return {
    port,
    dataDir: resolve(nonEmpty(env.DATA_DIR) ?? './data'),
    databaseUrl: nonEmpty(env.DATABASE_URL),
    databaseOwnerUrl,
    eventStoreConnectionString: esdb,
    jwtSecret: jwtSecret(env.AUTH_JWT_SECRET),
    logLevel: logLevel(env.LOG_LEVEL),
    logFormat: logFormat(env.LOG_FORMAT),
    writesPerMinute: positiveInteger('RATE_LIMIT_WRITES_PER_MINUTE', env.RATE_LIMIT_WRITES_PER_MINUTE, 1200),
    corsOrigins: (nonEmpty(env.CORS_ORIGINS) ?? '')
      .split(',')
      .map((o) => o.trim())
      .filter(Boolean),
    host: nonEmpty(env.HOST) ?? '127.0.0.1',
    trustProxy: trustProxy(env.TRUST_PROXY),
    metrics: onOff('METRICS', env.METRICS, true),
    oidc: oidcConfig(env),
    publicUrl: publicUrl(env.PUBLIC_URL, port),
    organization: nonEmpty(env.COPYDESK_ORGANIZATION) ?? 'Copydesk newsroom',
    webhooks: {
      allowPrivate: booleanFlag('WEBHOOK_ALLOW_PRIVATE', env.WEBHOOK_ALLOW_PRIVATE),
      timeoutMs: positiveInteger('WEBHOOK_TIMEOUT_MS', env.WEBHOOK_TIMEOUT_MS, 10_000),
      retryBaseMs: positiveInteger('WEBHOOK_RETRY_BASE_MS', env.WEBHOOK_RETRY_BASE_MS, 1000),
      retryMaxMs: positiveInteger('WEBHOOK_RETRY_MAX_MS', env.WEBHOOK_RETRY_MAX_MS, 10 * 60_000),
      disableAfterMs: positiveInteger('WEBHOOK_DISABLE_AFTER_MS', env.WEBHOOK_DISABLE_AFTER_MS, 24 * 3600_000),
    },
    rebuildPageEvents: rebuildPageEvents(env.REBUILD_PAGE_EVENTS),
  };
}

/**
 * The HS256 secret: `AUTH_JWT_SECRET`, else a random one generated once into `DATA_DIR/jwt-secret`
 * (mode 0600) so that `copydesk token` and the server agree without configuration.
 */
export function resolveJwtSecret(config: Pick<CopydeskConfig, 'jwtSecret' | 'dataDir'>): string {
  if (config.jwtSecret) return config.jwtSecret;
  const file = join(config.dataDir, 'jwt-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(config.dataDir, { recursive: true });
  const secret = randomBytes(48).toString('base64url');
  try {
    writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
    return secret;
  } catch {
    // Another process created it first: use theirs.
    return readFileSync(file, 'utf8').trim();
  }
}
