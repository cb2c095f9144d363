import jwt from 'jsonwebtoken';
import { createHmac, randomUUID } from 'node:crypto';
import { Role } from '../../src/newsroom/actor';
import { startTestApp, TestApp, TEST_SECRET } from '../support/app';
import { generateKey, OidcProvider } from '../support/oidc-provider';

type Access = 'public' | 'any' | Role[];

const A = randomUUID();
const Q = randomUUID();
const C = randomUUID();
const S = randomUUID();
const W: Role[] = ['reporter', 'editor'];

/** Written from API.md's tables (and the routes the issues add), not from the implementation. */
const ROUTES: [string, string, Access][] = [
  ['post', '/articles', W],
  ['put', `/articles/${A}/headline`, W],
  ['put', `/articles/${A}/body`, W],
  ['post', `/articles/${A}/quotes`, W],
  ['post', `/articles/${A}/quotes/${Q}/attribution`, W],
  ['post', `/articles/${A}/quotes/${Q}/withdrawal`, W],
  ['post', `/articles/${A}/topics`, W],
  ['delete', `/articles/${A}/topics/energy`, W],
  ['post', `/articles/${A}/claims`, ['reporter', 'editor', 'fact_checker']],
  ['post', `/articles/${A}/claims/${C}/verdict`, ['fact_checker']],
  ['post', `/articles/${A}/submission`, W],
  ['post', `/articles/${A}/approval`, ['editor']],
  ['post', `/articles/${A}/publication`, ['editor']],
  ['post', `/articles/${A}/retraction`, ['editor']],
  ['post', `/articles/${A}/corrections`, ['editor']],
  ['post', '/sources', ['reporter', 'editor', 'fact_checker']],
  ['put', `/sources/${S}`, ['reporter', 'editor', 'fact_checker']],
  ['get', '/articles', 'any'],
  ['get', `/articles/${A}`, 'any'],
  ['get', `/articles/${A}/claims`, 'any'],
  ['get', '/claims', 'any'],
  ['get', `/articles/${A}/history`, 'any'],
  ['get', `/articles/${A}/revisions/0`, 'any'],
  ['get', `/articles/${A}/diff?from=0&to=0`, 'any'],
  ['get', `/articles/${A}/audit/verify`, 'any'],
  ['get', `/articles/${A}/ninjs`, 'any'],
  ['get', `/articles/${A}/ninjs?revision=0`, 'any'],
  ['get', `/articles/${A}/claim-reviews`, 'any'],
  ['get', '/audit', 'any'],
  ['get', '/sources', 'any'],
  ['get', `/sources/${S}`, 'any'],
  ['get', `/sources/${S}/quotes`, 'any'],
  ['get', '/topics', 'any'],
  ['get', '/admin/projections', ['admin']],
  ['post', '/admin/projections/articles/rebuild', ['admin']],
  ['post', '/admin/webhooks', ['admin']],
  ['get', '/admin/webhooks', ['admin']],
  ['get', `/admin/webhooks/${A}`, ['admin']],
  ['delete', `/admin/webhooks/${A}`, ['admin']],
  ['get', `/admin/webhooks/${A}/deliveries`, ['admin']],
  ['get', '/health', 'public'],
  ['get', '/metrics', 'public'],
  ['get', '/docs', 'public'],
];

const ROLES: Role[] = ['reporter', 'editor', 'fact_checker', 'admin'];
const now = () => Math.floor(Date.now() / 1000);
const claims = (roles: Role[]) => ({ sub: `matrix-${roles.join('-')}`, name: 'Matrix', roles, iat: now(), exp: now() + 3600 });

/** A token signed with the right secret whose header and payload are written out as given (JSON text or a value). */
function forged(header: unknown, payload: unknown): string {
  const part = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
  const input = `${part(header)}.${part(payload)}`;
  return `Bearer ${input}.${createHmac('sha256', TEST_SECRET).update(input).digest('base64url')}`;
}
const HS256 = { alg: 'HS256', typ: 'JWT' };
const withoutExp = { sub: 'matrix-admin', name: 'Matrix', roles: ROLES, iat: now() };

type Caller = [string, () => string | undefined | Promise<string | undefined>, Role | 'none' | null];

/** Each caller, and the Authorization header it sends: refused tokens of every kind, then one caller per role. */
const HS256_CALLERS: Caller[] = [
  ['no token', () => undefined, null],
  ['expired', () => `Bearer ${jwt.sign({ ...claims(ROLES), exp: now() - 10 }, TEST_SECRET, { algorithm: 'HS256' })}`, null],
  ['another secret', () => `Bearer ${jwt.sign(claims(ROLES), 'not-the-secret', { algorithm: 'HS256' })}`, null],
  ['alg none', () => `Bearer ${jwt.sign(claims(ROLES), '', { algorithm: 'none' } as jwt.SignOptions)}`, null],
  ['HS512', () => `Bearer ${jwt.sign(claims(ROLES), TEST_SECRET, { algorithm: 'HS512' })}`, null],
  ['basic auth', () => 'Basic YWRtaW46YWRtaW4=', null],
  // Signed with the right secret, but claims no server may accept.
  ['no exp (never expires)', () => forged(HS256, withoutExp), null],
  ['exp 1e400', () => forged(HS256, `{"sub":"matrix-admin","name":"Matrix","roles":["admin"],"exp":1e400}`), null],
  ['exp in 60 days (beyond the 30-day lifetime)', () => forged(HS256, { ...claims(ROLES), exp: now() + 60 * 86400 }), null],
  ['exp a string', () => forged(HS256, { ...claims(ROLES), exp: String(now() + 3600) }), null],
  ['iat a year ahead', () => forged(HS256, { ...claims(ROLES), iat: now() + 365 * 86400 }), null],
  ['iat 1e400', () => forged(HS256, `{"sub":"matrix-admin","name":"Matrix","roles":["admin"],"iat":1e400,"exp":${now() + 3600}}`), null],
  ['unknown crit header', () => forged({ ...HS256, crit: ['exp-ext'], 'exp-ext': true }, claims(ROLES)), null],
  ['blank sub', () => forged(HS256, { ...claims(ROLES), sub: ' ' }), null],
  ['zero-width sub', () => forged(HS256, { ...claims(ROLES), sub: '\u200b' }), null],
  ['sub with NUL', () => forged(HS256, { ...claims(ROLES), sub: 'a\u0000b' }), null],
  ['empty name', () => forged(HS256, { ...claims(ROLES), name: '' }), null],
  ['blank name', () => forged(HS256, { ...claims(ROLES), name: '\t ' }), null],
];
const HS256_ROLE_CALLERS: Caller[] = [
  ...ROLES.map((role): Caller => [role, () => `Bearer ${jwt.sign(claims([role]), TEST_SECRET, { algorithm: 'HS256' })}`, role]),
  // The same valid claims through forged(): proves that the refusals above come from the claims, not from forging.
  ['admin (written out by hand)', () => forged(HS256, claims(['admin'])), 'admin'],
];

/** The callers with an OpenID Connect provider's tokens (Keycloak's shape: realm roles, preferred_username), and its refused ones. */
async function oidcCallers(provider: OidcProvider): Promise<Caller[]> {
  const key = await generateKey('RS256', 'matrix');
  const impostor = await generateKey('RS256', 'matrix');
  provider.published = [key];
  const realm = (roles: string[]) => ({ realm_access: { roles } });
  const token = (claims: Record<string, unknown>, signer = key) => async () => `Bearer ${await provider.token(signer, claims)}`;
  return [
    ['OIDC: expired', token({ ...realm(ROLES), iat: now() - 900, exp: now() - 300 }), null],
    ['OIDC: another audience', token({ ...realm(ROLES), aud: 'someone-else' }), null],
    ['OIDC: another issuer', token({ ...realm(ROLES), iss: 'http://127.0.0.1:9/realms/other' }), null],
    ['OIDC: signed by another key', token(realm(ROLES), impostor), null],
    ['OIDC: the roles at the top level, not at AUTH_ROLES_CLAIM', token({ roles: ROLES }), 'none'],
    ...ROLES.map((role): Caller => [`OIDC ${role}`, token({ ...realm([role, 'offline_access']), sub: `kc-${role}` }), role]),
    // The HS256 tokens of `copydesk token` keep working beside OpenID Connect.
    ['HS256 admin', () => `Bearer ${jwt.sign(claims(['admin']), TEST_SECRET, { algorithm: 'HS256' })}`, 'admin'],
  ];
}

/** `none`: a valid token with none of the four roles. */
function expected(access: Access, caller: Role | 'none' | null, tokenSent: boolean): 'ok' | 401 | 403 {
  if (access === 'public') return 'ok';
  if (caller === null) return 401;
  if (access === 'any' || (caller !== 'none' && access.includes(caller))) return 'ok';
  return tokenSent ? 403 : 401;
}

describe.each([
  ['HS256 tokens', false],
  ['OpenID Connect tokens (and HS256 beside them)', true],
])('authorization matrix: %s', (_, oidc) => {
  let t: TestApp;
  let provider: OidcProvider | undefined;
  let CALLERS: Caller[];
  beforeAll(async () => {
    provider = oidc ? await new OidcProvider().start([]) : undefined;
    CALLERS = [...HS256_CALLERS, ...(provider ? await oidcCallers(provider) : HS256_ROLE_CALLERS)];
    t = await startTestApp({ env: { RATE_LIMIT_WRITES_PER_MINUTE: '1000000', ...provider?.env() } });
  });
  afterAll(async () => {
    await t?.close();
    await provider?.stop();
  });

  it(`answers every route (${ROUTES.length}) for every caller as API.md says, never with a stack trace or SQL`, async () => {
    const rows: string[] = [];
    for (const [method, path, access] of ROUTES) {
      for (const [name, header, role] of CALLERS) {
        const token = await header();
        const request = (t.http() as any)[method](path);
        const res = await (token ? request.set('authorization', token) : request).send(method === 'get' ? undefined : {});
        const want = expected(access, role, token !== undefined);
        const got = res.status === 401 || res.status === 403 ? res.status : 'ok';
        if (got !== want) rows.push(`${method.toUpperCase()} ${path} as ${name}: expected ${want}, got ${res.status} ${JSON.stringify(res.body)}`);
        expect(res.status).toBeLessThan(500);
        if (res.status >= 400) {
          expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
          expect(res.text).not.toMatch(/\n\s+at |\.ts:\d+|\.js:\d+|SELECT |INSERT |UPDATE |relation "|syntax error/);
        }
      }
    }
    expect(rows).toEqual([]);
  });
});
