import { ExecutionContext, Injectable } from '@nestjs/common';
import { ThrottlerGuard, ThrottlerLimitDetail } from '@nestjs/throttler';
import { AuthenticatedRequest } from '../auth/auth.guard';
import { ProblemException } from './problem';

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Per-actor rate limit on writes (429 with Retry-After). Runs after the auth guard, so the tracker
 * is the token's subject; reads are not limited. Counters live in this process: with several
 * replicas behind a balancer, each counts on its own.
 */
@Injectable()
export class WriteThrottlerGuard extends ThrottlerGuard {
  protected override async shouldSkip(context: ExecutionContext): Promise<boolean> {
    return READ_METHODS.has(context.switchToHttp().getRequest<AuthenticatedRequest>().method);
  }

  protected override async getTracker(req: Record<string, unknown>): Promise<string> {
    const request = req as unknown as AuthenticatedRequest;
    return request.actor ? `actor:${request.actor.id}` : `ip:${request.ip}`;
  }

  protected override async throwThrottlingException(_context: ExecutionContext, detail: ThrottlerLimitDetail): Promise<void> {
    const seconds = Math.max(1, Math.ceil(detail.timeToBlockExpire));
    throw ProblemException.of(429, 'rate-limited', `At most ${detail.limit} writes per ${Math.round(detail.ttl / 1000)} s; retry in ${seconds} s.`, {}, { 'retry-after': String(seconds) });
  }
}
