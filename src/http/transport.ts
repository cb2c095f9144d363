import type { FastifyHttpOptions, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import { Problem, titleFor } from './problem';

/** A request, headers and body, must have arrived in full within this time (else 408). */
export const REQUEST_TIMEOUT_MS = 30_000;
/** The request line and headers must have arrived within this time (else 408). */
export const HEADERS_TIMEOUT_MS = 10_000;
/**
 * Before answering a request whose body was not read (413, 415, an early refusal), the server reads and
 * discards up to this much of it, so that a client still sending gets the answer rather than a broken
 * pipe; beyond it the connection is closed after the answer.
 */
export const DISCARD_LIMIT_BYTES = 32 * 1024 * 1024;
/**
 * Path segments longer than this are refused before routing (414). A topic's slug can be longer than
 * its label of at most 100 characters (lower-casing İ doubles it): Fastify's default of 100 made such a
 * topic impossible to untag.
 */
export const MAX_PATH_SEGMENT_LENGTH = 2000;

const problem = (status: number, type: string, detail: string): Problem => ({ type, title: titleFor(status), status, detail });

/** Errors Node's HTTP parser and Fastify's router raise before any route runs, as problems; input is never echoed. */
export function frameworkProblem(code: string | undefined): Problem {
  switch (code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return problem(408, 'request-timeout', 'The request (headers and body) did not arrive in full in time.');
    case 'HPE_HEADER_OVERFLOW':
      return problem(431, 'headers-too-large', 'The request headers are larger than 16 KiB.');
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return problem(414, 'uri-too-long', `A path segment is longer than ${MAX_PATH_SEGMENT_LENGTH} characters.`);
    case 'FST_ERR_BAD_URL':
      return problem(400, 'malformed-url', 'The path is not a valid URL (malformed percent-encoding).');
    case 'FST_ERR_ASYNC_CONSTRAINT':
      return problem(500, 'internal-error', 'Something went wrong on our side; it has been logged.');
    default:
      return problem(400, 'bad-request', 'The request is not valid HTTP/1.1.');
  }
}

/**
 * Node answers parser errors and timeouts itself, in plain text, unless someone listens for
 * `clientError`: this answers with a problem instead, on the same conditions as Node's own handler
 * (nothing of a response written yet on the socket), then closes the connection.
 */
function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (socket.writable && !inFlight?.headersSent) {
    const answer = frameworkProblem(error.code);
    const body = JSON.stringify(answer);
    socket.write(
      `HTTP/1.1 ${answer.status} ${answer.title}\r\nContent-Type: application/problem+json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

function frameworkErrors(error: Error & { code?: string }, _request: FastifyRequest, reply: FastifyReply): void {
  const answer = frameworkProblem(error.code);
  void reply.code(answer.status).type('application/problem+json; charset=utf-8').send(answer);
}

/** Fastify's options for timeouts, limits and the errors raised before routing. */
export function transportOptions(requestTimeoutMs = REQUEST_TIMEOUT_MS): FastifyHttpOptions<Server> {
  return {
    requestTimeout: requestTimeoutMs,
    // Node swaps the two when the headers' is the longer, and checks them every connectionsCheckingInterval
    // (30 s by default): late by at most 1 s instead.
    http: { headersTimeout: Math.min(HEADERS_TIMEOUT_MS, requestTimeoutMs), connectionsCheckingInterval: 1000 },
    clientErrorHandler,
    frameworkErrors,
    routerOptions: { maxParamLength: MAX_PATH_SEGMENT_LENGTH },
  };
}

/** Reads and discards what is left of a request body; false when more than `limit` bytes came, or the connection ended first. */
function discardBody(raw: IncomingMessage, limit: number): Promise<boolean> {
  if (raw.complete || raw.readableEnded) return Promise.resolve(true);
  if (raw.destroyed) return Promise.resolve(false);
  return new Promise((resolve) => {
    let seen = 0;
    const finish = (whole: boolean) => {
      raw.off('data', onData).off('end', onEnd).off('error', onClosed).off('close', onClosed);
      resolve(whole);
    };
    const onData = (chunk: Buffer | string) => {
      seen += chunk.length;
      if (seen > limit) finish(false);
    };
    const onEnd = () => finish(true);
    const onClosed = () => finish(false);
    raw.on('data', onData).once('end', onEnd).once('error', onClosed).once('close', onClosed);
    raw.resume();
  });
}

/**
 * Fastify answers a body over the limit (and an unsupported media type) at once and closes the
 * connection while the client is still sending: the client sees EPIPE, not the 413. Every answer
 * to a request whose body is still arriving waits until the body has been read (up to
 * {@link DISCARD_LIMIT_BYTES}, and never past the request timeout).
 */
export function answerAfterTheBody(fastify: FastifyInstance, limit = DISCARD_LIMIT_BYTES): void {
  fastify.addHook('onSend', async (request, reply, payload) => {
    if (request.raw.complete) return payload;
    const whole = await discardBody(request.raw, limit);
    if (!whole) void reply.header('connection', 'close');
    return payload;
  });
}
