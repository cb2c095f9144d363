import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import './allowed-methods';
import { StoreUnavailableError, WrongExpectedVersionError } from '../event-store/event-store';
import { RevisionMismatchError } from '../newsroom/command-executor';
import { DomainError, DomainErrorType } from '../newsroom/domain-error';
import { PROBLEM_TYPES } from './openapi/problem-types';
import { Problem, ProblemException, titleFor } from './problem';

export const RETRY_AFTER_SECONDS = '2';

/** A domain refusal's HTTP status: its row in PROBLEM_TYPES (every DomainErrorType must have one, or this does not compile). */
export const domainErrorStatus = (type: DomainErrorType): number => PROBLEM_TYPES[type][0];

/** Maps every error to `application/problem+json`; nothing internal (stack, SQL) ever leaves. */
export function toProblem(error: unknown): { problem: Problem; headers: Record<string, string> } {
  if (error instanceof ProblemException) return { problem: error.problem, headers: error.headers };
  if (error instanceof DomainError) {
    const status = domainErrorStatus(error.type);
    return { problem: { type: error.type, title: titleFor(status), status, detail: error.message, ...error.extra }, headers: {} };
  }
  if (error instanceof RevisionMismatchError)
    return {
      problem: { type: 'revision-mismatch', title: titleFor(412), status: 412, detail: error.message, currentRevision: error.currentRevision },
      headers: { etag: `"${error.currentRevision}"` },
    };
  if (error instanceof StoreUnavailableError)
    return {
      problem: {
        type: 'store-unavailable',
        title: titleFor(503),
        status: 503,
        detail:
          error.explanation ??
          (error.store === 'eventStore' ? 'The event store is unreachable; try again shortly.' : 'The read database is unreachable; try again shortly.'),
        store: error.store,
      },
      headers: { 'retry-after': RETRY_AFTER_SECONDS },
    };
  if (error instanceof WrongExpectedVersionError)
    return { problem: { type: 'concurrency-conflict', title: titleFor(409), status: 409, detail: 'The aggregate changed concurrently; retry.' }, headers: {} };
  const fastifyCode = (error as { code?: string })?.code;
  const fastifyStatus = (error as { statusCode?: number })?.statusCode;
  if (fastifyCode === 'FST_ERR_CTP_BODY_TOO_LARGE' || fastifyStatus === 413)
    return { problem: { type: 'payload-too-large', title: titleFor(413), status: 413, detail: 'The request body is larger than 1 MiB.' }, headers: {} };
  if (fastifyCode === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || fastifyStatus === 415)
    return { problem: { type: 'unsupported-media-type', title: titleFor(415), status: 415, detail: 'Send the body as application/json.' }, headers: {} };
  if (fastifyCode?.startsWith('FST_ERR_CTP') || error instanceof SyntaxError || (fastifyStatus === 400 && !(error instanceof HttpException)))
    return { problem: { type: 'malformed-json', title: titleFor(400), status: 400, detail: 'The request body is not valid JSON.' }, headers: {} };
  if (error instanceof HttpException) {
    const status = error.getStatus();
    // Nest re-raises Fastify's body-parser errors as plain HttpExceptions.
    if (status === 413) return toProblem({ code: 'FST_ERR_CTP_BODY_TOO_LARGE' });
    if (status === 415) return toProblem({ code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE' });
    if (status === 400) return toProblem({ code: 'FST_ERR_CTP_INVALID_JSON_BODY' });
    const type = status === 404 ? 'not-found' : status === 405 ? 'method-not-allowed' : `http-${status}`;
    return { problem: { type, title: titleFor(status), status, detail: status === 404 ? 'No such route.' : error.message }, headers: {} };
  }
  return { problem: { type: 'internal-error', title: titleFor(500), status: 500, detail: 'Something went wrong on our side; it has been logged.' }, headers: {} };
}

/**
 * A route-less 404 for a path that other methods route is a 405 naming them. A 404 from a route that
 * takes this method (a static-file wildcard that found no file) stays a 404.
 */
function methodNotAllowed(request: FastifyRequest | undefined): { problem: Problem; headers: Record<string, string> } | undefined {
  const allowed = request?.server?.allowedMethods?.(request.url.split('?')[0]) ?? [];
  if (allowed.length === 0 || allowed.includes(request!.method)) return undefined;
  return {
    problem: { type: 'method-not-allowed', title: titleFor(405), status: 405, detail: `This path answers ${allowed.join(', ')}.` },
    headers: { allow: allowed.join(', ') },
  };
}

export function sendProblem(reply: FastifyReply, error: unknown, logger: Logger, request?: FastifyRequest): void {
  let { problem, headers } = toProblem(error);
  if (problem.type === 'not-found') ({ problem, headers } = methodNotAllowed(request) ?? { problem, headers });
  if (problem.status >= 500 && problem.status !== 503) logger.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  if (problem.status === 401) headers['www-authenticate'] = 'Bearer';
  void reply.status(problem.status).headers(headers).type('application/problem+json').send(problem);
}

@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    sendProblem(http.getResponse<FastifyReply>(), error, this.logger, http.getRequest<FastifyRequest>());
  }
}
