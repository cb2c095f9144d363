import type { LoggerService } from '@nestjs/common';
import pino, { DestinationStream, Level, Logger } from 'pino';

export type LogFormat = 'json' | 'pretty';

/**
 * The one logger of the process: pino, JSON lines on stdout (`LOG_FORMAT=json`, the default), or the
 * same records made readable by pino-pretty (`LOG_FORMAT=pretty`). Nothing logs a header or a body;
 * the redaction below is a second line of defence should a caller ever pass one.
 */
export function createLogger(options: { level: string; format: LogFormat; destination?: DestinationStream }): Logger {
  const settings = {
    level: options.level,
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: ['authorization', 'headers.authorization', 'req.headers.authorization', 'request.headers.authorization', 'body', 'req.body', 'token'],
      censor: '[redacted]',
    },
  };
  if (options.format === 'pretty') {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const pretty = require('pino-pretty') as typeof import('pino-pretty');
    return pino(settings, pretty({ sync: true, singleLine: true, colorize: process.stdout.isTTY === true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', destination: options.destination ?? 1 }));
  }
  return pino(settings, options.destination ?? pino.destination({ dest: 1, sync: true }));
}

/** Nest's start-up chatter (modules loaded, routes mapped): debug, not info. */
const QUIET_CONTEXTS = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestFactory', 'NestApplication']);

/**
 * Nest's logger (and every `new Logger(context)`) written through pino, so Nest's lines and the
 * request lines are one format. The context becomes a `context` field.
 */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  private write(level: Level, message: unknown, params: unknown[]): void {
    // Nest passes the context last, and for errors a stack before it.
    const rest = [...params];
    const context = rest.length > 0 && typeof rest[rest.length - 1] === 'string' ? (rest.pop() as string) : undefined;
    const stack = level === 'error' && typeof rest[0] === 'string' ? (rest.shift() as string) : undefined;
    const quiet = level === 'info' && context !== undefined && QUIET_CONTEXTS.has(context);
    const fields: Record<string, unknown> = { ...(context ? { context } : {}), ...(stack ? { stack } : {}) };
    if (message instanceof Error) this.logger[level]({ ...fields, err: message }, message.message);
    else if (typeof message === 'object' && message !== null) this.logger[quiet ? 'debug' : level]({ ...fields, ...(message as object) });
    else this.logger[quiet ? 'debug' : level](fields, String(message));
  }
}
