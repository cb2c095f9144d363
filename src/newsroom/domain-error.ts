/** Every refusal a domain rule can make. The HTTP edge gives each its status (src/http/openapi/problem-types.ts). */
export type DomainErrorType =
  | 'article-exists'
  | 'article-not-found'
  | 'article-retracted'
  | 'claim-exists'
  | 'claim-not-found'
  | 'concurrency-conflict'
  | 'evidence-required'
  | 'forbidden'
  | 'four-eyes'
  | 'invalid-topic'
  | 'invalid-transition'
  | 'publish-blocked'
  | 'quote-exists'
  | 'quote-not-found'
  | 'quote-not-in-body'
  | 'quote-withdrawn'
  | 'reason-required'
  | 'source-exists'
  | 'source-not-found'
  | 'topic-not-tagged'
  | 'unknown-quote'
  | 'unknown-source';

/**
 * A command refused by a domain rule: a value the deciders throw, knowing nothing of HTTP. `type` is a
 * stable kebab-case slug (the problem+json `type` clients switch on); `extra` carries additional
 * members of the answer (for example `blockers`).
 */
export class DomainError extends Error {
  override readonly name = 'DomainError';

  constructor(
    readonly type: DomainErrorType,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}
