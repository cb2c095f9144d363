import { Injectable } from '@nestjs/common';
import { mapPgError } from '../event-store/postgres-errors';
import { ProjectionRunner } from '../projection-runner/projection-runner';
import { ProblemException } from './problem';

/** API.md: a GET waits at most this long for `X-Wait-For-Position`. */
export const WAIT_FOR_POSITION_LIMIT_MS = 5000;
export const LAGGING_RETRY_AFTER_SECONDS = '1';

/** `X-Wait-For-Position: <decimal position>`; absent is undefined, anything else malformed is a 400. */
export function parseWaitForPosition(value: string | string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  const raw = Array.isArray(value) ? value[0] : value;
  const match = /^\s*"?(\d{1,30})"?\s*$/.exec(raw);
  if (!match)
    throw ProblemException.validation([{ field: 'X-Wait-For-Position', message: 'X-Wait-For-Position must be a position as a write answered it, e.g. "123456"' }]);
  return match[1].replace(/^0+(?=\d)/, '');
}

/**
 * Read-your-writes: before a read-model query, wait until the models it reads have projected the
 * position the client names, else 503 `projection-lagging` with `Retry-After`.
 */
@Injectable()
export class ReadYourWrites {
  constructor(private readonly runner: ProjectionRunner) {}

  async waitFor(header: string | string[] | undefined, projections: readonly string[]): Promise<void> {
    const wanted = parseWaitForPosition(header);
    if (wanted === undefined) return;
    const { reached, position } = await this.runner
      .waitForPosition(wanted, WAIT_FOR_POSITION_LIMIT_MS, projections)
      .catch((error) => mapPgError(error, 'readStore'));
    if (!reached)
      throw ProblemException.of(
        503,
        'projection-lagging',
        `The read models have projected up to position ${position}, not yet ${wanted}; retry shortly.`,
        { readPosition: position, waitForPosition: wanted },
        { 'retry-after': LAGGING_RETRY_AFTER_SECONDS, 'x-read-position': position },
      );
  }
}
