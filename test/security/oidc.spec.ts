import { exportSPKI } from 'jose';
import { createHmac, randomUUID } from 'node:crypto';
import { ConfigError, readConfig } from '../../src/config/configuration';
import { startTestApp, TestApp } from '../support/app';
import { generateKey, OidcProvider, ProviderKey } from '../support/oidc-provider';

describe('OpenID Connect tokens beside HS256', () => {
  let provider: OidcProvider;
  let t: TestApp;
  let rsa: ProviderKey;
  let ec: ProviderKey;
  let ed: ProviderKey;
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const detail = async (token: string) => {
    const res = await t.http().get('/articles').set(bearer(token));
    return { status: res.status, detail: String(res.body.detail ?? '') };
  };

  beforeAll(async () => {
    [rsa, ec, ed] = await Promise.all([generateKey('RS256', 'rsa-1'), generateKey('ES256', 'ec-1'), generateKey('EdDSA', 'ed-1')]);
    provider = await new OidcProvider().start([rsa, ec, ed]);
    t = await startTestApp({ env: provider.env() });
  });
  afterAll(async () => {
    jest.restoreAllMocks();
    await t?.close();
    await provider?.stop();
  });

  it('takes RS256, ES256 and EdDSA tokens from the discovery document’s keys; the actor is the token’s sub and name', async () => {
    for (const key of [rsa, ec, ed]) {
      const token = await provider.token(key, { sub: `kc-${key.kid}`, realm_access: { roles: ['reporter', 'offline_access', 'uma_authorization'] } });
      const drafted = await t.http().post('/articles').set(bearer(token)).send({ headline: `Signed with ${key.alg}`, body: 'A body.' });
      expect([key.alg, drafted.status]).toEqual([key.alg, 201]);
      const history = await t.http().get(`/articles/${drafted.body.id}/history`).set(bearer(token)).set('x-wait-for-position', drafted.body.position);
      expect(history.body.items[0].actor).toEqual({ id: `kc-${key.kid}`, name: 'kc.user' });
    }
    expect(provider.discoveryFetches).toBe(1);
    expect(provider.jwksFetches).toBe(1);
  });

  it('takes roles from the configured claim path, ignores roles outside the four, and prefers the name claim', async () => {
    const editor = await provider.token(rsa, { name: 'Kim Editor', realm_access: { roles: ['editor', 'superuser', 'default-roles-newsroom'] }, roles: ['admin'] });
    // `roles` at the top level is not the configured claim: no admin.
    expect((await t.http().get('/admin/projections').set(bearer(editor))).status).toBe(403);
    const drafted = await t.http().post('/articles').set(bearer(editor)).send({ headline: 'By an editor', body: 'A body.' });
    expect(drafted.status).toBe(201);
    const history = await t.http().get(`/articles/${drafted.body.id}/history`).set(bearer(editor)).set('x-wait-for-position', drafted.body.position);
    expect(history.body.items[0].actor.name).toBe('Kim Editor');
    const nobody = await provider.token(rsa, { realm_access: { roles: ['superuser'] } });
    expect((await t.http().get('/articles').set(bearer(nobody))).status).toBe(200);
    expect((await t.http().post('/articles').set(bearer(nobody)).send({ headline: 'No role', body: 'A body.' })).status).toBe(403);
  });

  it('still takes HS256 tokens signed with AUTH_JWT_SECRET (copydesk token)', async () => {
    expect((await t.http().post('/articles').set(bearer(t.token(['reporter']))).send({ headline: 'HS256', body: 'A body.' })).status).toBe(201);
  });

  it('refuses with 401 a wrong issuer or audience, an expired token, one not yet valid, alg none, HS256 keyed with the public key, and an unknown signer', async () => {
    const now = Math.floor(Date.now() / 1000);
    const roles = { realm_access: { roles: ['admin'] } };
    const publicPem = await exportSPKI(rsa.publicKey);
    const stranger = await generateKey('RS256', 'rsa-1');
    const unsigned = (payload: object) =>
      `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT', kid: 'rsa-1' })).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.`;
    const hmacWithPublicKey = (payload: object) => {
      const input = `${Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: 'rsa-1' })).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
      return `${input}.${createHmac('sha256', publicPem).update(input).digest('base64url')}`;
    };
    const good = { iss: provider.issuer, aud: provider.audience, sub: 'kc-user-1', iat: now, exp: now + 300, ...roles };
    const cases: [string, string, RegExp][] = [
      ['another issuer', await provider.token(rsa, { ...roles, iss: 'http://127.0.0.1:1/realms/other' }), /iss/],
      ['another audience', await provider.token(rsa, { ...roles, aud: 'another-client' }), /aud/],
      ['expired (beyond the clock tolerance)', await provider.token(rsa, { ...roles, iat: now - 900, exp: now - 120 }), /expired/],
      ['not valid before 5 minutes from now', await provider.token(rsa, { ...roles, nbf: now + 300 }), /nbf/],
      ['no exp', await provider.token(rsa, { ...roles, exp: undefined }), /exp/],
      ['alg none', unsigned(good), /algorithm|signature/],
      ['HS256 with the RSA public key as its secret', hmacWithPublicKey(good), /signature/],
      ['RS384', await provider.token({ ...rsa, alg: 'RS384' as never }, roles), /algorithm/],
      ['signed by another key with a published kid', await provider.token(stranger, roles), /signature/],
      ['a blank sub', await provider.token(rsa, { ...roles, sub: ' ' }), /sub/],
    ];
    for (const [name, token, says] of cases) {
      const answer = await detail(token);
      expect([name, answer.status]).toEqual([name, 401]);
      expect([name, says.test(answer.detail)]).toEqual([name, true]);
      expect(answer.detail).not.toContain(publicPem.slice(30, 60));
    }
    // A token a minute past exp is still inside the clock tolerance; one five minutes ahead of nbf is not.
    expect((await detail(await provider.token(rsa, { ...roles, iat: now - 600, exp: now - 30 }))).status).toBe(200);
  });

  it('fetches the keys again on an unknown kid, at most once a minute: a rotated key works after one refetch', async () => {
    const rotated = await generateKey('ES256', `ec-${randomUUID()}`);
    provider.published = [rotated, rsa];
    const before = provider.jwksFetches;
    const started = Date.now();
    const clock = jest.spyOn(Date, 'now');
    try {
      // The keys were fetched less than a minute ago (the first test): the unknown kid does not fetch them again.
      clock.mockReturnValue(started);
      const token = await provider.token(rotated, { realm_access: { roles: ['reporter'] } });
      expect(await detail(token)).toMatchObject({ status: 401, detail: expect.stringMatching(/kid/) });
      expect(provider.jwksFetches).toBe(before);
      // A minute on: one refetch, and the new key verifies.
      clock.mockReturnValue(started + 61_000);
      expect((await detail(token)).status).toBe(200);
      expect(provider.jwksFetches).toBe(before + 1);
      expect((await detail(token)).status).toBe(200);
      expect((await detail(await provider.token(rsa, { realm_access: { roles: ['reporter'] } }))).status).toBe(200);
      // Another unknown kid straight after: refused without a fetch.
      const unknown = await provider.token(await generateKey('RS256', 'never-published'), {});
      expect((await detail(unknown)).status).toBe(401);
      expect(provider.jwksFetches).toBe(before + 1);
    } finally {
      clock.mockRestore();
    }
  });
});

describe('OpenID Connect with AUTH_JWKS_URL and no discovery', () => {
  it('verifies against the named key set without asking for the discovery document', async () => {
    const key = await generateKey('RS256', 'direct');
    const provider = await new OidcProvider().start([key]);
    const t = await startTestApp({ env: provider.env(false) });
    try {
      const token = await provider.token(key, { realm_access: { roles: ['editor'] } });
      expect((await t.http().get('/articles').set('authorization', `Bearer ${token}`)).status).toBe(200);
      expect([provider.discoveryFetches, provider.jwksFetches]).toEqual([0, 1]);
    } finally {
      await t.close();
      await provider.stop();
    }
  });

  it('answers 401 saying so while the provider is down, asks it again only after a few seconds, and keeps taking HS256 tokens', async () => {
    const key = await generateKey('ES256', 'later');
    const provider = await new OidcProvider().start([key]);
    provider.down = true;
    const t = await startTestApp({ env: provider.env() });
    try {
      const token = await provider.token(key, { realm_access: { roles: ['editor'] } });
      for (let i = 0; i < 3; i++) {
        const res = await t.http().get('/articles').set('authorization', `Bearer ${token}`);
        expect([res.status, res.body.type]).toEqual([401, 'unauthorized']);
        expect(res.body.detail).toMatch(/discovery document could not be read \(it answered 503\)/);
      }
      expect(provider.discoveryFetches).toBe(1);
      expect((await t.http().get('/articles').set('authorization', `Bearer ${t.token(['editor'])}`)).status).toBe(200);
      provider.down = false;
      await new Promise((resolve) => setTimeout(resolve, 5_200));
      expect((await t.http().get('/articles').set('authorization', `Bearer ${token}`)).status).toBe(200);
      expect(provider.discoveryFetches).toBe(2);
    } finally {
      await t.close();
      await provider.stop();
    }
  });

  it('needs AUTH_ISSUER and AUTH_AUDIENCE once OpenID Connect is configured', () => {
    expect(() => readConfig({ AUTH_JWKS_URL: 'https://idp.example/certs', AUTH_AUDIENCE: 'copydesk' })).toThrow(ConfigError);
    expect(() => readConfig({ AUTH_ISSUER: 'https://idp.example/realms/newsroom' })).toThrow(/AUTH_AUDIENCE/);
    expect(() => readConfig({ AUTH_ISSUER: 'ftp://idp.example', AUTH_AUDIENCE: 'copydesk' })).toThrow(/http/);
    expect(readConfig({ AUTH_ISSUER: 'https://idp.example/realms/newsroom', AUTH_AUDIENCE: 'copydesk' }).oidc).toEqual({
      issuer: 'https://idp.example/realms/newsroom',
      jwksUrl: undefined,
      audience: 'copydesk',
      rolesClaim: 'roles',
      nameClaim: undefined,
    });
  });
});
