import { ExecutionContext, createParamDecorator } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import { AuthenticatedRequest } from '../auth/auth.guard';
import { CommandContext, WriteResult } from '../newsroom/command-context';
import { keyedCommandId, uuidV5 } from '../newsroom/ids';
import { ProblemException } from './problem';

function header(request: AuthenticatedRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** `If-Match: "3"` (also `W/"3"` or a bare 3); `*` means "whatever it is now". */
export function parseIfMatch(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '*') return undefined;
  const match = /^\s*(?:W\/)?"?(-?\d{1,15})"?\s*$/.exec(value);
  if (!match) throw ProblemException.validation([{ field: 'If-Match', message: 'If-Match must be a revision as sent in ETag, e.g. "3"' }]);
  return Number(match[1]);
}

export function idempotencyKey(request: AuthenticatedRequest): string | undefined {
  const key = header(request, 'idempotency-key');
  if (key === undefined) return undefined;
  if (key.length < 1 || key.length > 200)
    throw ProblemException.validation([{ field: 'Idempotency-Key', message: 'Idempotency-Key must be 1 to 200 characters' }]);
  return key;
}

/** A request that knows the server's command-id key (`createApp` decorates every request with it). */
export type CommandRequest = AuthenticatedRequest & { commandIdKey?: Buffer };

/**
 * The command's context from the request: the actor from the verified token, a command id that is
 * stable for one actor's Idempotency-Key (so a retried command re-derives the same ids) and secret
 * until the command has run (see `keyedCommandId`), If-Match.
 */
export function commandContext(request: CommandRequest): CommandContext {
  const actor = request.actor;
  if (!actor) throw new Error('commandContext needs an authenticated request');
  if (!request.commandIdKey) throw new Error('commandContext needs the server key on the request');
  const key = idempotencyKey(request);
  const commandId = key !== undefined ? keyedCommandId(request.commandIdKey, actor.id, key) : randomUUID();
  const correlation = header(request, 'x-correlation-id');
  return {
    actor,
    commandId,
    freshCommandId: key === undefined,
    correlationId: correlation && correlation.length <= 200 ? correlation : commandId,
    causationId: commandId,
    now: new Date().toISOString(),
    ifMatch: parseIfMatch(header(request, 'if-match')),
  };
}

export const WriteContext = createParamDecorator((_: unknown, ctx: ExecutionContext) =>
  commandContext(ctx.switchToHttp().getRequest<CommandRequest>()),
);

/** The id a command creates: the client's, or one derived from the (secret) command id. */
export function newId(context: CommandContext, clientId: string | undefined, purpose: string): string {
  return clientId ?? uuidV5(`${context.commandId}\n${purpose}`);
}

/**
 * API.md's write answer: `{id, revision, position}` plus the ids the command created (`created`, e.g.
 * `{ quoteId }`); `ETag` carries the revision. `createdStatus` is the status when the command appended
 * to a collection (201), else 200. An answer repeated from the log (the command's events were already
 * there) says so, as a stored one does.
 */
export function writeAnswer(reply: FastifyReply, id: string, result: WriteResult, createdStatus: 200 | 201 = 200, created: Record<string, string> = {}) {
  void reply.status(result.changed ? createdStatus : 200).header('etag', `"${result.revision}"`);
  if (result.replayed) void reply.header('idempotent-replayed', 'true');
  return { id, revision: result.revision, position: result.position, ...created };
}
