import { JWK, KeyLike, SignJWT, exportJWK, generateKeyPair } from 'jose';
import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Alg = 'RS256' | 'ES256' | 'EdDSA';

export interface ProviderKey {
  kid: string;
  alg: Alg;
  privateKey: KeyLike;
  publicKey: KeyLike;
  jwk: JWK;
}

export async function generateKey(alg: Alg, kid: string): Promise<ProviderKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, alg === 'EdDSA' ? { crv: 'Ed25519' } : {});
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { kid, alg, privateKey, publicKey, jwk };
}

/**
 * A real OpenID Connect provider's public side on 127.0.0.1: the discovery document and the JWKS, with the
 * keys it publishes changeable (rotation) and the JWKS fetches counted.
 */
export class OidcProvider {
  readonly audience = 'copydesk';
  published: ProviderKey[] = [];
  jwksFetches = 0;
  /** True: every request is answered 503 (the provider is down). */
  down = false;
  discoveryFetches = 0;
  private server?: Server;
  issuer = '';

  async start(keys: ProviderKey[]): Promise<this> {
    this.published = keys;
    this.server = createServer((request, response) => {
      const send = (body: unknown) => {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify(body));
      };
      if (request.url === '/realms/newsroom/.well-known/openid-configuration') {
        this.discoveryFetches++;
        if (this.down) return void response.writeHead(503).end();
        return send({ issuer: this.issuer, jwks_uri: `${this.issuer}/protocol/openid-connect/certs`, id_token_signing_alg_values_supported: ['RS256', 'ES256', 'EdDSA'] });
      }
      if (request.url === '/realms/newsroom/protocol/openid-connect/certs') {
        this.jwksFetches++;
        return send({ keys: this.published.map((k) => k.jwk) });
      }
      response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.issuer = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/realms/newsroom`;
    return this;
  }

  get jwksUrl(): string {
    return `${this.issuer}/protocol/openid-connect/certs`;
  }

  /** The environment that makes Copydesk take this provider's tokens (Keycloak's realm roles). */
  env(viaDiscovery = true): Record<string, string> {
    return {
      AUTH_ISSUER: this.issuer,
      ...(viaDiscovery ? {} : { AUTH_JWKS_URL: this.jwksUrl }),
      AUTH_AUDIENCE: this.audience,
      AUTH_ROLES_CLAIM: 'realm_access.roles',
    };
  }

  /** A token as Keycloak issues it: realm roles under `realm_access.roles`, the name in `preferred_username`. */
  token(key: ProviderKey, claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ iss: this.issuer, aud: this.audience, iat: now, exp: now + 300, sub: 'kc-user-1', preferred_username: 'kc.user', ...claims })
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT', ...header })
      .sign(key.privateKey);
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
