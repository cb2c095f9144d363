import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import helmet from '@fastify/helmet';
import { LogController } from 'fastify';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { deskContentSecurityPolicy, registerDeskAssets } from '../desk/desk';
import { recordRoutes } from '../http/allowed-methods';
import { bodyShapeError } from '../http/body-shape';
import { ProblemException } from '../http/problem';
import { createLogger, LogFormat, PinoNestLogger } from '../logging/logger';
import { Metrics } from '../metrics/metrics';
import type { DestinationStream } from 'pino';
import { answerAfterTheBody, transportOptions } from '../http/transport';
import { AppModule } from './app.module';
import { Runtime } from './runtime';

/** API.md: bodies larger than 1 MiB are refused with 413. */
export const BODY_LIMIT_BYTES = 1024 * 1024;

const API_DESCRIPTION = [
  'Event-sourced newsroom editing API.',
  '',
  '- Writes answer `{id, revision, position}` with `ETag: "<revision>"`. Send `If-Match` to write only on the revision you read, and an `Idempotency-Key` to retry safely.',
  '- The read models trail writes by milliseconds: to read your own write, send its `position` as `X-Wait-For-Position`. Their answers carry `X-Read-Position`.',
  '- Every error is `application/problem+json` (RFC 9457) with a stable `type` slug; each response lists the types it may carry.',
  '- Besides those, the HTTP layer may answer any request with 404 `not-found` (no such route), 405 `method-not-allowed` (other methods route the path; `Allow` names them), 408 `request-timeout`, 414 `uri-too-long`, 431 `headers-too-large`, 400 `malformed-url` or `bad-request`, or 500 `internal-error`.',
].join('\n');

/** `X-Correlation-Id` as the log records it: what the client sent (at most 200 characters), else the request id. */
function correlationIdOf(header: string | string[] | undefined, reqId: string): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value && value.length <= 200 ? value : reqId;
}

/**
 * Builds the HTTP application on Fastify. One pino logger for everything: Fastify's, Nest's (and every
 * `new Logger(context)`), and one line per request written here, with no header or body in it.
 */
export async function createApp(
  runtime: Runtime,
  options: { logLevel?: string; logFormat?: LogFormat; logDestination?: DestinationStream; requestTimeoutMs?: number } = {},
): Promise<NestFastifyApplication> {
  const logger = createLogger({ level: options.logLevel ?? runtime.config.logLevel, format: options.logFormat ?? runtime.config.logFormat, destination: options.logDestination });
  const adapter = new FastifyAdapter({
    ...transportOptions(options.requestTimeoutMs),
    bodyLimit: BODY_LIMIT_BYTES,
    trustProxy: runtime.config.trustProxy,
    loggerInstance: logger,
    // Unique across processes and restarts, so a log pipeline can tell requests apart.
    genReqId: () => randomUUID(),
    // Fastify's own two lines a request (with URL, host and address) are replaced by the one below.
    logController: new LogController({ disableRequestLogging: true }),
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRuntime(runtime), adapter, {
    logger: new PinoNestLogger(logger),
    bufferLogs: false,
    // The JSON parser is ours (below); Nest would register Fastify's default over it.
    bodyParser: false,
  });
  const fastify = app.getHttpAdapter().getInstance();
  // Command ids are derived with the server's key (see write-context.ts); a getter, so no copy per request.
  fastify.decorateRequest('commandIdKey', { getter: () => runtime.commandIdKey });
  recordRoutes(fastify);
  // Request durations by route template (`/articles/:id`, never the raw path), every request alike.
  const metrics = app.get(Metrics);
  if (metrics.enabled)
    fastify.addHook('onResponse', (request, reply, done) => {
      metrics.httpRequest(request.method, request.routeOptions.url, reply.statusCode, reply.elapsedTime / 1000);
      done();
    });
  // One line a request: who, which route (its template), how it ended, how long it took. Never a header's value but the correlation id, never a body.
  fastify.addHook('onResponse', (request, reply, done) => {
    const status = reply.statusCode;
    request.log[status >= 500 ? 'error' : 'info'](
      {
        correlationId: correlationIdOf(request.headers['x-correlation-id'], request.id),
        actor: (request as { actor?: { id: string } }).actor?.id ?? null,
        method: request.method,
        route: request.routeOptions.url ?? null,
        status,
        ms: Math.round(reply.elapsedTime * 100) / 100,
      },
      'request',
    );
    done();
  });
  answerAfterTheBody(fastify);
  // Bodiless commands (`/submission`, …) sent with `Content-Type: application/json` and no body, as
  // many clients do, are taken as having no body. Every other body's shape is checked on its text before
  // it is parsed, then Fastify's own parser (with its prototype-poisoning protection) parses it.
  const json = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeContentTypeParser('application/json');
  fastify.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: BODY_LIMIT_BYTES }, (request, body, done) => {
    const bytes = body as Buffer;
    if (bytes.length === 0) return done(null, undefined);
    const shape = bodyShapeError(bytes);
    if (shape) return done(ProblemException.validation([shape]), undefined);
    json(request, bytes.toString('utf8'), done);
  });
  // Bodies are JSON: text/plain is 415 like any other media type, not a string to validate.
  fastify.removeContentTypeParser('text/plain');
  await app.register(helmet, {
    // The Swagger UI at /docs needs its inline styles and init script; the desk gets a stricter policy (below).
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        scriptSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        // Over plain HTTP it would make browsers fetch /docs' assets over HTTPS, which nobody serves: sent below for HTTPS only.
        upgradeInsecureRequests: null,
      },
    },
    strictTransportSecurity: false,
  });
  deskContentSecurityPolicy(fastify);
  await registerDeskAssets(fastify);
  // HSTS and upgrade-insecure-requests only for requests that came over HTTPS (behind a proxy: with TRUST_PROXY).
  fastify.addHook('onRequest', async (request, reply) => {
    if (request.protocol !== 'https') return;
    void reply.header('strict-transport-security', 'max-age=31536000; includeSubDomains');
    const csp = reply.getHeader('content-security-policy');
    if (typeof csp === 'string') void reply.header('content-security-policy', `${csp};upgrade-insecure-requests`);
  });
  // Closed unless CORS_ORIGINS names the origins of editors' tools.
  if (runtime.config.corsOrigins.length > 0)
    app.enableCors({ origin: runtime.config.corsOrigins, exposedHeaders: ['ETag', 'X-Read-Position', 'Idempotent-Replayed', 'Location', 'Retry-After'] });
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Copydesk')
      .setDescription(API_DESCRIPTION)
      .setVersion('1')
      .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs/openapi.json' });
  app.enableShutdownHooks();
  await app.init();
  await fastify.ready();
  return app;
}

/** The address a server really listens on, as a URL; `0.0.0.0` and `::` say that they mean every interface. */
export function listeningOn(address: string | AddressInfo | null): string {
  if (address === null || typeof address === 'string') return String(address);
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const every = address.address === '0.0.0.0' || address.address === '::' ? ' (every interface)' : '';
  return `http://${host}:${address.port}${every}`;
}
