import { JWTPayload, createRemoteJWKSet, decodeProtectedHeader, errors, jwtVerify } from 'jose';
import { isStorableText } from '../http/validation';
import { Actor, Role } from '../newsroom/actor';
import { isBlank } from '../newsroom/typography';
import { CLOCK_SKEW_SECONDS, InvalidTokenError, ROLES, verifyToken } from './jwt';

/** API.md's OpenID Connect settings (`AUTH_ISSUER` …); unset when only HS256 tokens are taken. */
export interface OidcConfig {
  /** The provider's issuer URL: tokens' `iss` must equal it; its discovery document names the JWKS. */
  issuer: string;
  /** The JWKS, instead of the one the discovery document names. */
  jwksUrl?: string;
  /** What tokens' `aud` must contain. */
  audience: string;
  /** Dotted path of the roles claim (`realm_access.roles` for Keycloak). */
  rolesClaim: string;
  /** The claim holding the person's name; unset: `name`, else `preferred_username`. */
  nameClaim?: string;
}

/** The asymmetric algorithms OpenID Connect tokens may use; HS256 is only ever checked against AUTH_JWT_SECRET. */
export const OIDC_ALGORITHMS = ['RS256', 'ES256', 'EdDSA'] as const;

/** A key set is fetched again on an unknown `kid` at most this often (jose's cooldown). */
export const JWKS_COOLDOWN_MS = 60_000;
const FETCH_TIMEOUT_MS = 5_000;
/** After a failed discovery, how long before the next token tries again. */
const DISCOVERY_RETRY_MS = 5_000;

export interface TokenVerifierOptions {
  /** Fetches of the key set on an unknown `kid` are at least this far apart (default {@link JWKS_COOLDOWN_MS}). */
  jwksCooldownMs?: number;
}

/**
 * Verifies bearer tokens: HS256 against the server's secret (`copydesk token`), and, when configured,
 * tokens of an OpenID Connect provider against its published keys. Which check applies is decided by
 * the token's `alg` header, and each check allows only its own algorithms, so a token cannot choose
 * to be checked with a public key as an HMAC secret (algorithm confusion) or with no signature at all.
 */
export class TokenVerifier {
  private jwks?: Promise<ReturnType<typeof createRemoteJWKSet>>;

  constructor(
    private readonly secret: () => string,
    readonly oidc: OidcConfig | undefined,
    private readonly options: TokenVerifierOptions = {},
  ) {}

  async verify(token: string): Promise<Actor> {
    const oidc = this.oidc;
    if (!oidc) return verifyToken(this.secret(), token);
    let alg: unknown;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      throw new InvalidTokenError('not a JSON Web Token');
    }
    if (alg === 'HS256') return verifyToken(this.secret(), token);
    // The value is not repeated: an answer never echoes the request.
    if (!(OIDC_ALGORITHMS as readonly unknown[]).includes(alg)) throw new InvalidTokenError(`the algorithm is not accepted (HS256, ${OIDC_ALGORITHMS.join(', ')} are)`);
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, await this.keySet(), {
        issuer: oidc.issuer,
        audience: oidc.audience,
        algorithms: [...OIDC_ALGORITHMS],
        clockTolerance: CLOCK_SKEW_SECONDS,
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (error) {
      throw new InvalidTokenError(describe(error));
    }
    return this.actorOf(payload);
  }

  private actorOf(payload: JWTPayload): Actor {
    const oidc = this.oidc!;
    const sub = payload.sub;
    if (!identifying(sub)) throw new InvalidTokenError('claim sub must be a non-blank string of at most 200 characters');
    const name = [oidc.nameClaim ?? 'name', 'preferred_username'].map((claim) => payload[claim]).find(identifying) ?? sub;
    const claimed = claimAt(payload, oidc.rolesClaim);
    const listed = Array.isArray(claimed) ? claimed : typeof claimed === 'string' ? claimed.split(/\s+/) : [];
    // Roles outside the four mean nothing here (providers add their own, such as offline_access).
    const roles = [...new Set(listed.filter((r): r is Role => typeof r === 'string' && (ROLES as string[]).includes(r)))];
    return { id: sub, name, roles };
  }

  /** The provider's key set: `AUTH_JWKS_URL`, else the `jwks_uri` of `AUTH_ISSUER`'s discovery document (fetched once it works). */
  private keySet(): Promise<ReturnType<typeof createRemoteJWKSet>> {
    if (!this.jwks) {
      this.jwks = this.jwksUrl().then((url) =>
        createRemoteJWKSet(url, { cooldownDuration: this.options.jwksCooldownMs ?? JWKS_COOLDOWN_MS, timeoutDuration: FETCH_TIMEOUT_MS }),
      );
      // A failed discovery is answered as failed for a few seconds, then tried again: tokens arriving
      // while the provider is down do not each send it a request.
      this.jwks.catch(() => setTimeout(() => (this.jwks = undefined), DISCOVERY_RETRY_MS).unref());
    }
    return this.jwks;
  }

  private async jwksUrl(): Promise<URL> {
    const oidc = this.oidc!;
    if (oidc.jwksUrl) return new URL(oidc.jwksUrl);
    const where = `${oidc.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    let document: { issuer?: unknown; jwks_uri?: unknown };
    try {
      const response = await fetch(where, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), headers: { accept: 'application/json' } });
      if (!response.ok) throw new Error(`it answered ${response.status}`);
      document = (await response.json()) as typeof document;
    } catch (error) {
      throw new InvalidTokenError(`the identity provider's discovery document could not be read (${(error as Error).message})`);
    }
    if (document.issuer !== oidc.issuer) throw new InvalidTokenError('the discovery document names another issuer than AUTH_ISSUER');
    if (typeof document.jwks_uri !== 'string') throw new InvalidTokenError('the discovery document names no jwks_uri');
    return new URL(document.jwks_uri);
  }
}

/** The value at a dotted path of the claims (`realm_access.roles`), or undefined. */
export function claimAt(payload: Record<string, unknown>, path: string): unknown {
  let value: unknown = payload;
  for (const key of path.split('.')) {
    if (value === null || typeof value !== 'object' || Array.isArray(value) || !Object.prototype.hasOwnProperty.call(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

function identifying(value: unknown): value is string {
  return typeof value === 'string' && value.length <= 200 && !isBlank(value) && isStorableText(value);
}

/** What was wrong with a token, in words that name no key material. */
function describe(error: unknown): string {
  if (error instanceof InvalidTokenError) return error.message;
  if (error instanceof errors.JWTExpired) return 'the token has expired';
  if (error instanceof errors.JWTClaimValidationFailed) return `claim ${error.claim} ${error.reason === 'check_failed' ? 'does not match' : 'is missing or malformed'}`;
  if (error instanceof errors.JWKSNoMatchingKey) return 'no key of the identity provider matches the token (kid)';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'signature verification failed';
  if (error instanceof errors.JOSEAlgNotAllowed) return 'the algorithm is not accepted';
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid) return "the identity provider's keys could not be fetched";
  if (error instanceof errors.JOSEError) return error.message;
  return "the identity provider's keys could not be fetched";
}
