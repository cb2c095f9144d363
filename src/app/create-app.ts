import { LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
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
