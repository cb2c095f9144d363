import { CallHandler, ExecutionContext, Inject, Injectable, NestInterceptor } from '@nestjs/common';
import { createHash } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import { Pool } from 'pg';
import { Observable, from, of, switchMap } from 'rxjs';
import { AuthenticatedRequest } from '../auth/auth.guard';
import { mapPgError } from '../event-store/postgres-errors';
import { canonicalJson } from '../newsroom/canonical-json';
import { ProblemException } from './problem';
import { idempotencyKey } from './write-context';

export const PG_POOL = Symbol('PG_POOL');

/**
 * `Idempotency-Key` on writes: the first 2xx answer is stored (in Postgres, so it survives a
 * restart) and replayed with `Idempotent-Replayed: true`; the same key with another body is 422.
 * Refusals are not stored: a refused command changed nothing and may succeed when retried.
 * A crash between the append and storing the answer is covered one level down: the command id
 * derives from the key, and the executor answers a command whose events are already stored.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    if (!['POST', 'PUT', 'DELETE', 'PATCH'].includes(request.method) || !request.actor) return next.handle();
    const key = idempotencyKey(request);
    if (key === undefined) return next.handle();
    const actorId = request.actor.id;
    const route = request.routeOptions?.url ?? request.url;
    const hash = createHash('sha256').update(`${request.method} ${request.url}\n${canonicalJson(request.body)}`).digest('hex');
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    return from(this.find(actorId, key)).pipe(
      switchMap((stored) => {
        if (stored) {
          if (stored.request_hash !== hash)
            throw ProblemException.of(422, 'idempotency-key-reused', `Idempotency-Key was first used with another request (${route}).`);
          void reply.status(stored.status).header('idempotent-replayed', 'true');
          if (stored.response && typeof stored.response === 'object' && 'revision' in stored.response)
            void reply.header('etag', `"${(stored.response as { revision: number }).revision}"`);
          return of(stored.response);
        }
        return next.handle().pipe(
          switchMap((body) => from(this.save(actorId, key, hash, reply.statusCode, body).then(() => body))),
        );
      }),
    );
  }

  private async find(actorId: string, key: string) {
    const { rows } = await this.pool
      .query<{ request_hash: string; status: number; response: unknown }>(
        'SELECT request_hash, status, response FROM idempotency_keys WHERE actor_id = $1 AND key = $2',
        [actorId, key],
      )
      .catch((error) => mapPgError(error, 'readStore'));
    return rows[0];
  }

  private async save(actorId: string, key: string, hash: string, status: number, body: unknown): Promise<void> {
    await this.pool
      .query(
        `INSERT INTO idempotency_keys (actor_id, key, request_hash, status, response) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (actor_id, key) DO NOTHING`,
        [actorId, key, hash, status, JSON.stringify(body ?? null)],
      )
      .catch((error) => mapPgError(error, 'readStore'));
  }
}
