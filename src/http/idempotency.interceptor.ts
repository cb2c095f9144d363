import { CallHandler, ExecutionContext, Inject, Injectable, NestInterceptor, Optional } from '@nestjs/common';
import { createHash, randomUUID } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import { Pool, QueryResultRow } from 'pg';
import { Observable, catchError, finalize, from, of, switchMap, throwError } from 'rxjs';
import { AuthenticatedRequest } from '../auth/auth.guard';
import { mapPgError } from '../event-store/postgres-errors';
import { canonicalJson } from '../newsroom/canonical-json';
import { ProblemException } from './problem';
import { RETRY_AFTER_SECONDS } from './problem.filter';
import { idempotencyKey } from './write-context';

export const PG_POOL = Symbol('PG_POOL');
export const IDEMPOTENCY_OPTIONS = Symbol('IDEMPOTENCY_OPTIONS');

export interface IdempotencyOptions {
  /** How long a request with a key in flight elsewhere waits for that one's answer. Default 5 s. */
  waitMs?: number;
  /**
   * How long a reservation holds its key unless renewed; the request running renews it every third of
   * that, so only a holder that died (or stalled) loses it, to the next request with the key. Default 4 s:
   * shorter than `waitMs`, so a retry after a crash waits for the dead lease and takes it over.
   */
  leaseMs?: number;
}

/** What an answer's replay needs besides its status and body. */
const REPLAYED_HEADERS = ['etag', 'location'] as const;

interface StoredKey {
  request_hash: string;
  status: number | null;
  response: unknown;
  headers: Record<string, string> | null;
  expired: boolean;
}

type Claim = { run: true; owner: string } | { run: false; stored: StoredKey };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What makes two requests "the same" for a key: method, path with query, and the body (key order ignored). */
export function requestHash(method: string, url: string, body: unknown): string {
  return createHash('sha256').update(`${method} ${url}\n${canonicalJson(body)}`).digest('hex');
}

/**
 * `Idempotency-Key` on writes: one execution per actor and key, whatever arrives at once.
 *
 * A request first reserves its key: a row with the request's hash and no answer yet. The request
 * that made the reservation runs the command; a 2xx answer is stored in the row (in Postgres, so it
 * survives a restart) and replayed with `Idempotent-Replayed: true`; any other answer deletes the
 * reservation, since a refused command changed nothing and may succeed when retried. A request that
 * finds the key taken: another body is 422 `idempotency-key-reused` at once; the same body replays a
 * stored answer, or waits for the one in flight and replays it, or after `waitMs` answers 409
 * `idempotency-key-in-flight` with Retry-After: never a 2xx for work that was not done.
 *
 * A reservation left by a process that died holds its key only until its lease ends (the running
 * request renews it); then the next request takes it over. That is safe even if the first is still
 * running: the command id derives from the key, and the executor answers a command whose events are
 * already stored as the first time (the same covers a crash between the append and storing the answer).
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  private readonly waitMs: number;
  private readonly leaseMs: number;

  constructor(
    @Inject(PG_POOL) private readonly pool: Pool,
    @Optional() @Inject(IDEMPOTENCY_OPTIONS) options?: IdempotencyOptions,
  ) {
    this.waitMs = options?.waitMs ?? 5000;
    this.leaseMs = options?.leaseMs ?? 4000;
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    if (!['POST', 'PUT', 'DELETE', 'PATCH'].includes(request.method) || !request.actor) return next.handle();
    const key = idempotencyKey(request);
    if (key === undefined) return next.handle();
    const actorId = request.actor.id;
    const route = request.routeOptions?.url ?? request.url;
    const hash = requestHash(request.method, request.url, request.body);
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    return from(this.claim(actorId, key, hash, route)).pipe(
      switchMap((claim) => {
        if (!claim.run) return of(this.replay(reply, claim.stored));
        const renewal = setInterval(() => void this.renew(actorId, key, claim.owner), this.leaseMs / 3);
        renewal.unref();
        return next.handle().pipe(
          switchMap((body) => from(this.finish(actorId, key, hash, claim.owner, reply, body)).pipe(switchMap(() => of(body)))),
          catchError((error: unknown) => from(this.release(actorId, key, claim.owner)).pipe(switchMap(() => throwError(() => error)))),
          finalize(() => clearInterval(renewal)),
        );
      }),
    );
  }

  /** Reserves the key for this request, or says what to answer instead (waiting for one in flight). */
  private async claim(actorId: string, key: string, hash: string, route: string): Promise<Claim> {
    const deadline = Date.now() + this.waitMs;
    for (let pause = 5; ; pause = Math.min(pause * 2, 100)) {
      const owner = randomUUID();
      const reserved = await this.query(
        `INSERT INTO idempotency_keys (actor_id, key, request_hash, owner, lease_until)
         VALUES ($1, $2, $3, $4, now() + $5 * interval '1 millisecond')
         ON CONFLICT (actor_id, key) DO NOTHING`,
        [actorId, key, hash, owner, this.leaseMs],
      );
      if (reserved.rowCount === 1) return { run: true, owner };
      const stored = await this.find(actorId, key);
      if (!stored) continue; // a refused request released it meanwhile
      if (stored.request_hash !== hash)
        throw ProblemException.of(422, 'idempotency-key-reused', `Idempotency-Key was first used with another request (${route}).`);
      if (stored.status !== null) return { run: false, stored };
      if (stored.expired) {
        const taken = await this.query(
          `UPDATE idempotency_keys SET owner = $3, lease_until = now() + $4 * interval '1 millisecond'
           WHERE actor_id = $1 AND key = $2 AND status IS NULL AND lease_until <= now()`,
          [actorId, key, owner, this.leaseMs],
        );
        if (taken.rowCount === 1) return { run: true, owner };
        continue;
      }
      if (Date.now() >= deadline)
        throw ProblemException.of(
          409,
          'idempotency-key-in-flight',
          'A request with this Idempotency-Key is still being processed; retry to get its answer.',
          {},
          { 'retry-after': RETRY_AFTER_SECONDS },
        );
      await sleep(pause);
    }
  }

  private replay(reply: FastifyReply, stored: StoredKey): unknown {
    void reply.status(stored.status!).header('idempotent-replayed', 'true');
    for (const [name, value] of Object.entries(stored.headers ?? {})) void reply.header(name, value);
    // Answers stored before headers were kept: the ETag is the answer's revision.
    if (!stored.headers && stored.response && typeof stored.response === 'object' && 'revision' in stored.response)
      void reply.header('etag', `"${(stored.response as { revision: number }).revision}"`);
    return stored.response;
  }

  /** Stores a 2xx answer for replays; anything else releases the key. The first answer stored stays. */
  private async finish(actorId: string, key: string, hash: string, owner: string, reply: FastifyReply, body: unknown): Promise<void> {
    const status = reply.statusCode;
    if (status < 200 || status > 299) return this.release(actorId, key, owner);
    const headers: Record<string, string> = {};
    for (const name of REPLAYED_HEADERS) {
      const value = reply.getHeader(name);
      if (value !== undefined) headers[name] = String(value);
    }
    await this.query(
      `UPDATE idempotency_keys SET status = $4, response = $5, headers = $6, lease_until = NULL
       WHERE actor_id = $1 AND key = $2 AND request_hash = $3 AND status IS NULL`,
      [actorId, key, hash, status, JSON.stringify(body ?? null), JSON.stringify(headers)],
    );
  }

  private async renew(actorId: string, key: string, owner: string): Promise<void> {
    await this.query(
      `UPDATE idempotency_keys SET lease_until = now() + $4 * interval '1 millisecond' WHERE actor_id = $1 AND key = $2 AND owner = $3 AND status IS NULL`,
      [actorId, key, owner, this.leaseMs],
    ).catch(() => undefined);
  }

  /** Gives the key up after a refusal. If this fails too, the lease ends the reservation. */
  private async release(actorId: string, key: string, owner: string): Promise<void> {
    await this.query('DELETE FROM idempotency_keys WHERE actor_id = $1 AND key = $2 AND owner = $3 AND status IS NULL', [actorId, key, owner]).catch(
      () => undefined,
    );
  }

  private async find(actorId: string, key: string): Promise<StoredKey | undefined> {
    const { rows } = await this.query<StoredKey>(
      `SELECT request_hash, status, response, headers, lease_until <= now() AS expired FROM idempotency_keys WHERE actor_id = $1 AND key = $2`,
      [actorId, key],
    );
    return rows[0];
  }

  private query<R extends QueryResultRow = QueryResultRow>(text: string, params: unknown[]) {
    return this.pool.query<R>(text, params).catch((error) => mapPgError(error, 'readStore'));
  }
}
