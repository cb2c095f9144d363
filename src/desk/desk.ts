import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The desk's files: `desk/` at the top of the checkout (beside `src/`), found from here both when
 * running from `src/` (ts-node, the tests) and from `dist/src/` (the build).
 */
export const DESK_DIR = [join(__dirname, '..', '..', 'desk'), join(__dirname, '..', '..', '..', 'desk')].find((dir) => existsSync(join(dir, 'index.html'))) ?? join(__dirname, '..', '..', 'desk');

/** Where the browser imports the `diff` package's ES modules from (the same path, relative, as on disk). */
export const DESK_DIFF_PREFIX = '/desk/node_modules/diff/libesm/';

/**
 * The desk's policy: scripts and styles from this origin only, no inline script or style, no
 * plugins, no framing, API calls to this origin only; and Trusted Types, so that no string can
 * become markup through `innerHTML` and the like even by mistake. /docs keeps helmet's policy
 * (the Swagger UI needs its inline script).
 */
export const DESK_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "object-src 'none'",
  "require-trusted-types-for 'script'",
  "trusted-types 'none'",
].join(';');

const isDeskPath = (url: string | undefined) => url !== undefined && (url === '/desk' || url.startsWith('/desk/') || url.startsWith('/desk?'));

/**
 * Every answer under /desk gets {@link DESK_CSP} instead of the application-wide policy: by the route
 * that matched (however the path was spelt) or, for paths no route takes, by the path. Register after helmet.
 */
export function deskContentSecurityPolicy(fastify: FastifyInstance): void {
  fastify.addHook('onRequest', async (request, reply) => {
    if (isDeskPath(request.routeOptions.url) || isDeskPath(request.url)) void reply.header('content-security-policy', DESK_CSP);
  });
}

/**
 * Serves the desk's scripts and stylesheet under /desk/assets/ and the `diff` package's browser
 * modules under {@link DESK_DIFF_PREFIX}, and sends /desk/ to /desk; the pages themselves are
 * `DeskController`'s.
 */
export async function registerDeskAssets(fastify: FastifyInstance): Promise<void> {
  const servesCode = (path: string) => path.endsWith('.js') || path.endsWith('.css');
  await fastify.register(fastifyStatic, { root: DESK_DIR, prefix: '/desk/assets/', decorateReply: false, index: false, allowedPath: servesCode });
  fastify.get('/desk/', (request, reply) => {
    const query = request.url.indexOf('?');
    return reply.redirect(query === -1 ? '/desk' : `/desk${request.url.slice(query)}`);
  });
  const diff = join(dirname(require.resolve('diff/package.json')), 'libesm');
  await fastify.register(fastifyStatic, { root: diff, prefix: DESK_DIFF_PREFIX, decorateReply: false, index: false, allowedPath: (path) => path.endsWith('.js') });
}

let page: Buffer | undefined;

/** The desk's one HTML page; every desk route answers it and its script renders the view the path names. */
export function deskPage(): Buffer {
  page ??= readFileSync(join(DESK_DIR, 'index.html'));
  return page;
}
