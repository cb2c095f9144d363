/**
 * Every problem `type` a route answers, with its status and what it means: the OpenAPI document lists,
 * under each error response of each operation, the types that operation may answer with. It is also
 * the one table that maps a domain refusal (`DomainError`, which carries no status) to its HTTP status.
 */
export const PROBLEM_TYPES = {
  'validation-failed': [400, 'a body property, query parameter or header is invalid: `errors` names each once (at most 20; `moreErrors` counts the others)'],
  'malformed-json': [400, 'the body is not valid JSON'],
  unauthorized: [401, 'no bearer token, or one that is invalid or expired'],
  forbidden: [403, 'the token has none of the roles the route needs'],
  'four-eyes': [403, 'the approver submitted the article or wrote some of its content'],
  'article-not-found': [404, 'no article has that id'],
  'quote-not-found': [404, 'the article has no quote with that id'],
  'claim-not-found': [404, 'the article has no claim with that id'],
  'source-not-found': [404, 'no source has that id'],
  'topic-not-tagged': [404, 'the article is not tagged with that slug'],
  'revision-not-found': [404, 'the article has no such revision (yet): `currentRevision` is the one it stands at'],
  'projection-not-found': [404, 'no projection has that name'],
  'webhook-not-found': [404, 'no webhook subscription has that id (or it was deleted)'],
  'article-exists': [409, 'an article with that `id` exists'],
  'source-exists': [409, 'a source with that `id` exists'],
  'quote-exists': [409, 'the article has a quote with that `quoteId`'],
  'claim-exists': [409, 'the article has a claim with that `claimId`'],
  'invalid-transition': [409, 'the article is not in the status this needs: `from` is its status, `to` the one asked for'],
  'article-retracted': [409, 'the article is retracted and can no longer change'],
  'quote-withdrawn': [409, 'the quote is withdrawn'],
  'publish-blocked': [409, 'a live quote would be unattributed or out of the body, or a claim without a verdict: `blockers` lists what'],
  'concurrency-conflict': [409, 'the aggregate kept changing under the command (10 attempts); retry'],
  'idempotency-key-in-flight': [409, 'a request with this `Idempotency-Key` is still running; retry after `Retry-After` for its answer'],
  'revision-mismatch': [412, '`If-Match` names a revision the aggregate has moved past; `currentRevision` and `ETag` give the current one'],
  'payload-too-large': [413, 'the body is larger than 1 MiB'],
  'unsupported-media-type': [415, 'the body is not `application/json`'],
  'quote-not-in-body': [422, 'the quote is not verbatim in the body (whitespace-normalised); when only typographic look-alikes differ, `hint` gives the passage as the body writes it'],
  'unknown-source': [422, 'no source has that `sourceId`'],
  'unknown-quote': [422, 'the article has no quote with that `quoteId`'],
  'reason-required': [422, 'a change to a published article needs a `reason`'],
  'invalid-topic': [422, 'the topic label has no letter or digit'],
  'evidence-required': [422, 'a verdict other than `unverifiable` needs at least one piece of `evidence`'],
  'webhook-destination-refused': [422, 'the `url` is on (or resolves to) a loopback or private network, and `WEBHOOK_ALLOW_PRIVATE` is not `true`'],
  'idempotency-key-reused': [422, 'this `Idempotency-Key` was first used with another request (method, path, query or body)'],
  'rate-limited': [429, 'more writes this minute than `RATE_LIMIT_WRITES_PER_MINUTE` allows this actor; retry after `Retry-After`'],
  'projection-lagging': [503, 'the read models did not reach `X-Wait-For-Position` within 5 s: `readPosition`, `waitForPosition`, `Retry-After`'],
  'store-unavailable': [503, 'the event store or the read database is unreachable (`store` says which); retry after `Retry-After`'],
} as const satisfies Record<string, readonly [number, string]>;

export type ProblemType = keyof typeof PROBLEM_TYPES;

/** A type, or a type with what it means on this route when that says more than the general meaning. */
export type ProblemSpec = ProblemType | readonly [ProblemType, string];
