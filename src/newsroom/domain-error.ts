export type DomainErrorStatus = 403 | 404 | 409 | 422;

/**
 * A command refused by a domain rule. `type` is a stable kebab-case slug that the HTTP layer uses as the
 * problem+json `type`; `extra` carries additional problem members (for example `blockers`).
 */
export class DomainError extends Error {
  override readonly name = 'DomainError';

  constructor(
    readonly type: string,
    readonly status: DomainErrorStatus,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}
