import { LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import helmet from '@fastify/helmet';
import { MAX_BODY_DEPTH, jsonDepth } from '../http/body-depth';
import { ProblemException } from '../http/problem';
import { AppModule } from './app.module';
import { Runtime } from './runtime';

/** API.md: bodies larger than 1 MiB are refused with 413. */
export const BODY_LIMIT_BYTES = 1024 * 1024;

const NEST_LOG_LEVELS: Record<string, LogLevel[]> = {
  silent: ['fatal'],
  fatal: ['fatal'],
  error: ['fatal', 'error'],
  warn: ['fatal', 'error', 'warn'],
  info: ['fatal', 'error', 'warn', 'log'],
  debug: ['fatal', 'error', 'warn', 'log', 'debug'],
  trace: ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'],
};

/**
 * Builds the HTTP application on Fastify. Request logs are Fastify's own pino logger (JSON lines),
 * so no extra logging dependency is needed.
 */
export async function createApp(runtime: Runtime, options: { logLevel?: string } = {}): Promise<NestFastifyApplication> {
  const level = options.logLevel ?? runtime.config.logLevel;
  const adapter = new FastifyAdapter({
    bodyLimit: BODY_LIMIT_BYTES,
    logger: level === 'silent' ? false : { level },
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRuntime(runtime), adapter, {
    logger: NEST_LOG_LEVELS[level] ?? NEST_LOG_LEVELS.info,
    bufferLogs: false,
    // The JSON parser is ours (below); Nest would register Fastify's default over it.
    bodyParser: false,
  });
  const fastify = app.getHttpAdapter().getInstance();
  // Command ids are derived with the server's key (see write-context.ts); a getter, so no copy per request.
  fastify.decorateRequest('commandIdKey', { getter: () => runtime.commandIdKey });
  // Bodiless commands (`/submission`, …) sent with `Content-Type: application/json` and no body, as
  // many clients do, are taken as having no body; everything else goes to Fastify's own parser
  // (with its prototype-poisoning protection).
  const json = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeContentTypeParser('application/json');
  fastify.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: BODY_LIMIT_BYTES }, (request, body, done) =>
    body === '' ? done(null, undefined) : json(request, body as string, done),
  );
  // Before guards, interceptors and class-transformer walk the body recursively.
  fastify.addHook('preValidation', async (request, reply) => {
    if (jsonDepth(request.body) > MAX_BODY_DEPTH)
      await reply
        .status(400)
        .type('application/problem+json')
        .send(ProblemException.validation([{ field: '(body)', message: `the body must not nest deeper than ${MAX_BODY_DEPTH} levels` }]).problem);
  });
  await app.register(helmet, {
    // The Swagger UI at /docs needs its inline styles and init script; nothing else is served as HTML.
    contentSecurityPolicy: {
      directives: { defaultSrc: ["'self'"], styleSrc: ["'self'", "'unsafe-inline'"], scriptSrc: ["'self'", "'unsafe-inline'"], imgSrc: ["'self'", 'data:'] },
    },
  });
  // Closed unless CORS_ORIGINS names the origins of editors' tools.
  if (runtime.config.corsOrigins.length > 0)
    app.enableCors({ origin: runtime.config.corsOrigins, exposedHeaders: ['ETag', 'X-Read-Position', 'Idempotent-Replayed', 'Location', 'Retry-After'] });
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Copydesk')
      .setDescription('Event-sourced newsroom editing API. Errors are application/problem+json.')
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
