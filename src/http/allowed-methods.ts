import type { FastifyInstance } from 'fastify';

declare module 'fastify' {
  interface FastifyInstance {
    /** The methods routed for a path, for 405 answers (see {@link recordRoutes}). */
    allowedMethods?: (path: string) => string[];
  }
}

function patternOf(url: string): RegExp {
  const source = url
    .split('/')
    .map((segment) => (segment.startsWith(':') ? '[^/]+' : segment === '*' ? '.*' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${source}$`);
}

/**
 * Records every route as it is added, so that a request for a known path with a method nobody
 * routes can be told apart from an unknown path: 405 with `Allow` rather than 404. Call before the
 * routes are registered.
 */
export function recordRoutes(fastify: FastifyInstance): void {
  const routes: { pattern: RegExp; methods: Set<string> }[] = [];
  fastify.addHook('onRoute', (route) => {
    // A catch-all (CORS preflight's `OPTIONS *`) says nothing about which paths exist.
    if (route.url === '*' || route.url === '/*') return;
    const methods = [route.method].flat().map((m) => m.toUpperCase());
    if (methods.includes('GET')) methods.push('HEAD');
    const existing = routes.find((r) => r.pattern.source === patternOf(route.url).source);
    if (existing) methods.forEach((m) => existing.methods.add(m));
    else routes.push({ pattern: patternOf(route.url), methods: new Set(methods) });
  });
  fastify.decorate('allowedMethods', (path: string) => {
    const allowed = new Set<string>();
    for (const route of routes) if (route.pattern.test(path)) route.methods.forEach((m) => allowed.add(m));
    return [...allowed].sort();
  });
}
