import { Type, applyDecorators } from '@nestjs/common';
import { ApiDefaultResponse, ApiExtraModels, ApiHeader, ApiOperation, ApiResponse, HeaderObject, getSchemaPath } from '@nestjs/swagger';
import { WriteAnswerDto } from './answers.dto';
import { ProblemDto } from './problem.dto';
import { PROBLEM_TYPES, ProblemSpec, ProblemType } from './problem-types';

/*
 * The OpenAPI document is generated from the controllers; these decorators say, once for every route
 * of a kind, what the framework cannot see: the real success statuses, the headers, and which
 * problem types (hence which error statuses) a route answers.
 */

export const PROBLEM_JSON = 'application/problem+json';

const header = (description: string, required = true, schema: HeaderObject['schema'] = { type: 'string' }): HeaderObject => ({ description, required, schema });

const ETAG = header('The revision, `"<revision>"`: send it back as `If-Match`.');
const READ_POSITION = header('How far the read models this route reads have projected (a position); compare as a big integer.');
const RETRY_AFTER = header('Seconds to wait before retrying.', true, { type: 'integer', minimum: 1 });
export const IDEMPOTENT_REPLAYED = header('`true` when this is the stored answer to an earlier request with the same `Idempotency-Key`.', false, { type: 'string', enum: ['true'] });

/** Error responses for these problem types, grouped by status; each response lists its types and what they mean. */
export function ProblemResponses(problems: readonly ProblemSpec[], options: { readModel?: boolean } = {}) {
  const byStatus = new Map<number, { type: ProblemType; says: string }[]>();
  for (const spec of problems) {
    const [type, says] = typeof spec === 'string' ? [spec, PROBLEM_TYPES[spec][1]] : [spec[0], spec[1]];
    const status = PROBLEM_TYPES[type][0];
    byStatus.set(status, [...(byStatus.get(status) ?? []), { type, says }]);
  }
  const decorators = [...byStatus].map(([status, types]) => {
    const has = (type: ProblemType) => types.some((t) => t.type === type);
    const headers: Record<string, HeaderObject> = {};
    if (status === 401) headers['WWW-Authenticate'] = header('`Bearer`.');
    if (status === 412) headers.ETag = header('The current revision, `"<revision>"`.');
    if (status === 429 || status === 503) headers['Retry-After'] = RETRY_AFTER;
    if (status === 409 && has('idempotency-key-in-flight')) headers['Retry-After'] = { ...RETRY_AFTER, required: false, description: 'With `idempotency-key-in-flight`.' };
    if (options.readModel && (status === 404 || (status === 503 && has('projection-lagging'))))
      headers['X-Read-Position'] = { ...READ_POSITION, required: false, description: 'When a read model answered: how far it has projected.' };
    return ApiResponse({
      status,
      description: types.map((t) => `- \`${t.type}\`: ${t.says}`).join('\n'),
      content: { [PROBLEM_JSON]: { schema: { $ref: getSchemaPath(ProblemDto) } } },
      ...(Object.keys(headers).length ? { headers } : {}),
    });
  });
  return applyDecorators(ApiExtraModels(ProblemDto), ...decorators);
}

export interface OperationDoc {
  /** The operationId: the name a generated client gives the call. */
  id: string;
  summary: string;
  description?: string;
  /** Problem types this route answers besides those every route of its kind does. */
  problems?: readonly ProblemSpec[];
}

/** Summary, operationId, the problems, and a `default` for the errors of the HTTP layer any route may meet. */
export function Operation(doc: OperationDoc, problems: readonly ProblemSpec[], options: { readModel?: boolean } = {}) {
  return applyDecorators(
    ApiOperation({ operationId: doc.id, summary: doc.summary, ...(doc.description ? { description: doc.description } : {}) }),
    ProblemResponses([...problems, ...(doc.problems ?? [])], options),
    ApiDefaultResponse({
      description: 'Errors of the HTTP layer that any route may meet (408, 414, 431, a 400 `malformed-url`, a 500 `internal-error`), as problem+json.',
      content: { [PROBLEM_JSON]: { schema: { $ref: getSchemaPath(ProblemDto) } } },
    }),
  );
}

export const IdempotencyKeyHeader = () =>
  ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description:
      "1..200 characters, scoped to the token's `sub`. The first 2xx answer is stored and replayed (with `Idempotent-Replayed: true`) to a request with the same key, method, path and body; another request with the key is 422 `idempotency-key-reused`.",
    schema: { type: 'string', minLength: 1, maxLength: 200 },
  });

export const WaitForPositionHeader = (description = "Wait (at most 5 s) until the read models have projected this position (a write answer's `position`), else 503 `projection-lagging`.") =>
  ApiHeader({ name: 'X-Wait-For-Position', required: false, description, schema: { type: 'string', pattern: '^"?\\d{1,30}"?$', example: '123456' } });

/** The problems any write request may answer before (or whatever) it runs: its body, token, key, rate and store. */
export const REQUEST_PROBLEMS: readonly ProblemType[] = [
  'validation-failed',
  'malformed-json',
  'unauthorized',
  'idempotency-key-in-flight',
  'payload-too-large',
  'unsupported-media-type',
  'idempotency-key-reused',
  'rate-limited',
  'store-unavailable',
];
/** A command's: the request's, and the race it may lose. */
const WRITE_PROBLEMS: ProblemType[] = [...REQUEST_PROBLEMS, 'concurrency-conflict', 'revision-mismatch'];

export interface WriteDoc extends OperationDoc {
  /** A POST to a collection: 201 when it appended; with `unchanged`, 200 when it changed nothing; with `location`, `Location` names what it made. */
  created?: { location?: boolean; unchanged?: boolean };
  /** The answer's shape when it names what it created; else {@link WriteAnswerDto}. */
  answer?: Type<unknown>;
}

/** A command: API.md's write answer with `ETag`, `Idempotency-Key`, `If-Match`, `X-Correlation-Id`, and the problems every write may answer. */
export function WriteOperation(doc: WriteDoc) {
  const answer = (status: number, description: string, location = false) =>
    ApiResponse({
      status,
      description,
      type: doc.answer ?? WriteAnswerDto,
      headers: { ETag: ETAG, 'Idempotent-Replayed': IDEMPOTENT_REPLAYED, ...(location ? { Location: header('The path of what was created.') } : {}) },
    });
  const answers = doc.created
    ? [
        answer(201, 'Appended.', doc.created.location),
        ...(doc.created.unchanged ? [answer(200, 'Nothing to change: appended nothing; the answer names the current revision.')] : []),
      ]
    : [answer(200, 'Appended, or nothing to change (then appended nothing, and the answer names the current revision).')];
  return applyDecorators(
    Operation(doc, WRITE_PROBLEMS),
    IdempotencyKeyHeader(),
    ApiHeader({
      name: 'If-Match',
      required: false,
      description: 'The revision the change is meant for, as `ETag` sent it (`"3"`, `W/"3"` or `3`); else 412 `revision-mismatch` and nothing is appended. `*`: whatever it is now.',
      schema: { type: 'string', example: '"3"' },
    }),
    ApiHeader({
      name: 'X-Correlation-Id',
      required: false,
      description: "Recorded in the events' metadata as `correlationId` (at most 200 characters; else the command id is).",
      schema: { type: 'string' },
    }),
    ...answers,
  );
}

export interface ReadDoc extends OperationDoc {
  answer: Type<unknown>;
  /** The answer carries `ETag: "<revision>"`. */
  etag?: boolean;
}

/**
 * A query of the read models: `X-Wait-For-Position` (unless `wait` is false), `X-Read-Position` on the
 * answer (and on a read model's 404), and the problems every such read may answer.
 */
export function ReadModelOperation(doc: ReadDoc & { wait?: boolean }) {
  const wait = doc.wait ?? true;
  const problems: ProblemType[] = [...(wait ? (['validation-failed', 'projection-lagging'] as const) : []), 'unauthorized', 'store-unavailable'];
  return applyDecorators(
    Operation(doc, problems, { readModel: true }),
    ...(wait ? [WaitForPositionHeader()] : []),
    ApiResponse({ status: 200, description: 'OK.', type: doc.answer, headers: { 'X-Read-Position': READ_POSITION, ...(doc.etag ? { ETag: ETAG } : {}) } }),
  );
}

/** A read folded from the event log itself (time travel, diffs, the hash chain): no read model to wait for. */
export function EventLogReadOperation(doc: ReadDoc & { acceptsWait?: boolean }) {
  const problems: ProblemType[] = [...(doc.acceptsWait ? (['validation-failed'] as const) : []), 'unauthorized', 'store-unavailable'];
  return applyDecorators(
    Operation(doc, problems),
    ...(doc.acceptsWait ? [WaitForPositionHeader('Accepted, and nothing to wait for: the event log holds every acknowledged write. Malformed is 400.')] : []),
    ApiResponse({ status: 200, description: 'OK.', type: doc.answer }),
  );
}
