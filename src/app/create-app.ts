import { LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import helmet from '@fastify/helmet';
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
  });
  const fastify = app.getHttpAdapter().getInstance();
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
