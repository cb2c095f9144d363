import { CallHandler, Injectable, NestInterceptor } from '@nestjs/common';
import { Observable, throwError, timeout } from 'rxjs';
import { ProblemException } from './problem';
import { RETRY_AFTER_SECONDS } from './problem.filter';

/**
 * API.md: with a store unreachable, a request answers 503 within 10 s. Each call to a store has its
 * own bound (see `PG_TIMEOUTS`), but a request makes several one after another; this is the bound on
 * their sum. What the request had set going may still finish (an append may commit): a client that
 * must not apply a write twice retries it with its `Idempotency-Key`.
 */
export const REQUEST_DEADLINE_MS = 8000;

@Injectable()
export class RequestDeadlineInterceptor implements NestInterceptor {
  intercept(_context: unknown, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(
      timeout({
        first: REQUEST_DEADLINE_MS,
        with: () =>
          throwError(() =>
            ProblemException.of(
              503,
              'store-unavailable',
              `No store answered within ${REQUEST_DEADLINE_MS / 1000} s; try again shortly.`,
              {},
              { 'retry-after': RETRY_AFTER_SECONDS },
            ),
          ),
      }),
    );
  }
}
