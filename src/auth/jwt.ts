import jwt from 'jsonwebtoken';
import { KeyObject, createSecretKey } from 'node:crypto';
import { isStorableText } from '../http/validation';
import { Actor, Role } from '../newsroom/actor';
import { isBlank } from '../newsroom/typography';

export const ROLES: readonly Role[] = ['reporter', 'editor', 'fact_checker', 'admin'];

/** No token lives longer: `exp` may be at most this far ahead, and `copydesk token --ttl` at most this long. */
export const MAX_TOKEN_LIFETIME_SECONDS = 30 * 24 * 3600;
/** How far ahead of this server's clock a token's `iat` (or a clock skew on `exp`) may be. */
export const CLOCK_SKEW_SECONDS = 60;

export class InvalidTokenError extends Error {}

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/** A lifetime such as `30m`, `8h` or `7d` in seconds; anything else, or more than 30 days, throws naming the rule. */
export function parseTtl(text: string): number {
  const match = /^(\d{1,7})\s*(s|m|h|d|w)$/.exec(text.trim());
  const seconds = match ? Number(match[1]) * UNIT_SECONDS[match[2]] : NaN;
  if (!(seconds > 0 && seconds <= MAX_TOKEN_LIFETIME_SECONDS))
    throw new RangeError(`--ttl takes a duration from 1s to ${MAX_TOKEN_LIFETIME_SECONDS / 86400}d, such as 30m, 8h or 7d; got ${text}`);
  return seconds;
}

/** Signs an HS256 token with the claims API.md names: `sub`, `name`, `roles`; `ttl` as {@link parseTtl} reads it, or seconds. */
export function signToken(secret: string, actor: Actor, ttl: string | number = '8h'): string {
  const seconds = typeof ttl === 'number' ? ttl : parseTtl(ttl);
  if (!(seconds > 0 && seconds <= MAX_TOKEN_LIFETIME_SECONDS)) throw new RangeError(`a token lives at most ${MAX_TOKEN_LIFETIME_SECONDS} s`);
  return jwt.sign({ name: actor.name, roles: actor.roles }, secret, { algorithm: 'HS256', subject: actor.id, expiresIn: seconds });
}

let cachedKey: { secret: string; key: KeyObject } | undefined;

/**
 * Given a string, jsonwebtoken first tries (and fails) to parse it as a public key on every verify,
 * about 0.4 ms of CPU a request; a secret KeyObject skips that.
 */
function secretKey(secret: string): KeyObject {
  if (cachedKey?.secret !== secret) cachedKey = { secret, key: createSecretKey(Buffer.from(secret, 'utf8')) };
  return cachedKey.key;
}

/** A name or id that identifies someone: a non-blank string PostgreSQL can store, of at most 200 characters. */
function identifying(value: unknown): value is string {
  return typeof value === 'string' && value.length <= 200 && !isBlank(value) && isStorableText(value);
}

/** A NumericDate (RFC 7519): finite seconds since the epoch, not absurdly far either way. */
function numericDate(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && Math.abs(value) < 1e11;
}

/**
 * Verifies the signature (HS256 only: `alg: none` and other algorithms are refused) and the claims:
 * `exp` required and at most {@link MAX_TOKEN_LIFETIME_SECONDS} ahead, `iat` not in the future, no
 * `crit` header (no extension is understood), `sub` and `name` not blank, `roles` drawn from {@link ROLES}.
 */
export function verifyToken(secret: string, token: string, now = Date.now()): Actor {
  let decoded: jwt.Jwt;
  try {
    decoded = jwt.verify(token, secretKey(secret), { algorithms: ['HS256'], complete: true, clockTimestamp: Math.floor(now / 1000) });
  } catch (error) {
    throw new InvalidTokenError((error as Error).message);
  }
  if ('crit' in decoded.header) throw new InvalidTokenError('the crit header names extensions this server does not understand');
  const payload = decoded.payload;
  if (typeof payload !== 'object' || payload === null) throw new InvalidTokenError('token payload is not an object');
  const { sub, name, roles, exp, iat, nbf } = payload as Record<string, unknown>;
  const seconds = now / 1000;
  if (!numericDate(exp)) throw new InvalidTokenError('claim exp must be a NumericDate: tokens must expire');
  if (exp > seconds + MAX_TOKEN_LIFETIME_SECONDS + CLOCK_SKEW_SECONDS) throw new InvalidTokenError(`claim exp is more than ${MAX_TOKEN_LIFETIME_SECONDS / 86400} days ahead`);
  if (iat !== undefined && (!numericDate(iat) || iat > seconds + CLOCK_SKEW_SECONDS)) throw new InvalidTokenError('claim iat must be a NumericDate not in the future');
  if (nbf !== undefined && !numericDate(nbf)) throw new InvalidTokenError('claim nbf must be a NumericDate');
  if (!identifying(sub)) throw new InvalidTokenError('claim sub must be a non-blank string of at most 200 characters');
  if (!identifying(name)) throw new InvalidTokenError('claim name must be a non-blank string of at most 200 characters');
  if (!Array.isArray(roles) || !roles.every((r) => typeof r === 'string' && (ROLES as string[]).includes(r)))
    throw new InvalidTokenError(`claim roles must be a list drawn from ${ROLES.join(', ')}`);
  return { id: sub, name, roles: [...new Set(roles as Role[])] };
}
