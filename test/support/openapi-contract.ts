import Ajv, { ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

export interface OpenApiHeader {
  description?: string;
  required?: boolean;
  schema?: { type?: string };
}

export interface OpenApiResponse {
  description: string;
  headers?: Record<string, OpenApiHeader>;
  content?: Record<string, { schema: unknown }>;
}

export interface OpenApiParameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
}

export interface OpenApiOperation {
  operationId: string;
  summary?: string;
  parameters?: OpenApiParameter[];
  requestBody?: unknown;
  responses: Record<string, OpenApiResponse>;
}

export interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, OpenApiOperation>>;
  components: { schemas: Record<string, unknown> };
}

export interface DocumentedOperation {
  method: string;
  /** The path template, `/articles/{id}`. */
  path: string;
  op: OpenApiOperation;
}

const HTTP_METHODS = new Set(['get', 'put', 'post', 'delete', 'patch', 'options', 'head', 'trace']);

export function operationsOf(doc: OpenApiDocument): DocumentedOperation[] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => HTTP_METHODS.has(method))
      .map(([method, op]) => ({ method: method.toUpperCase(), path, op })),
  );
}

/** The problem types a response's description lists, one a line: "- `type`: what it means". */
export function documentedTypes(response: OpenApiResponse): string[] {
  return [...response.description.matchAll(/^- `([a-z0-9-]+)`:/gm)].map((m) => m[1]);
}

/** The routes in Fastify's router, from `printRoutes({ commonPrefix: false })`'s tree. */
export function registeredRoutes(printed: string): { method: string; path: string }[] {
  const stack: string[] = [];
  const routes: { method: string; path: string }[] = [];
  for (const line of printed.split('\n')) {
    const m = /^((?:│ {3}| {4})*)(?:├── |└── )(.*?)(?: \(([^)]*)\))?$/.exec(line);
    if (!m) continue;
    const depth = m[1].length / 4;
    stack[depth] = (depth > 0 ? stack[depth - 1] : '') + m[2];
    stack.length = depth + 1;
    for (const method of (m[3] ?? '').split(',').map((s) => s.trim()).filter(Boolean)) routes.push({ method, path: stack[depth] });
  }
  return routes;
}

/** `/articles/:id` and `/articles/{id}` alike, for comparing. */
export const routeKey = (method: string, path: string) => `${method.toUpperCase()} ${path.replace(/\{([^}]+)\}/g, ':$1')}`;

/**
 * An OpenAPI 3.0 schema as JSON Schema for ajv: `#/components/schemas/X` refers to the schema `X`,
 * `nullable` lets null through (for an `enum`, only if the enum lists null, as OpenAPI 3.0.3 says),
 * `example` goes, and every object with properties is closed, so that a field an answer has and the
 * document does not name fails.
 */
export function toJsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (node === null || typeof node !== 'object') return node;
  const { nullable, example: _example, ...rest } = node as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(rest)) {
    if (key === '$ref') out.$ref = String(value).replace('#/components/schemas/', '');
    else if (key === 'properties') out.properties = Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, toJsonSchema(v)]));
    else if (['items', 'not'].includes(key) || (key === 'additionalProperties' && typeof value === 'object')) out[key] = toJsonSchema(value);
    else if (['allOf', 'anyOf', 'oneOf'].includes(key)) out[key] = (value as unknown[]).map(toJsonSchema);
    else out[key] = value;
  }
  if (out.properties && out.additionalProperties === undefined) out.additionalProperties = false;
  if (nullable !== true) return out;
  if (out.enum) return { ...out, type: [out.type, 'null'] };
  return { anyOf: [{ type: 'null' }, out] };
}

/** What the checker needs of an HTTP answer (supertest's response has it). */
export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  /** The body as text: what a `text/*` answer is checked by. */
  text?: string;
}

/** Headers the API's contract is about: a response carrying one its operation does not document is a failure. */
const CONTRACT_HEADERS = ['etag', 'location', 'x-read-position', 'idempotent-replayed', 'retry-after', 'www-authenticate'];

/**
 * Compares real answers with the document: each answer's status must be documented for its operation,
 * its media type and body must match the documented schema, its documented required headers must be
 * there (and no contract header it does not document), a problem's `type` must be one the response
 * lists. Records what was seen, so that what the document promises and nothing provoked can be named.
 */
export class ContractChecker {
  private readonly ajv = new Ajv({ allErrors: true, strict: true });
  private readonly validators = new Map<string, ValidateFunction>();
  private readonly seen = new Set<string>();
  private failures: string[] = [];
  readonly operations: DocumentedOperation[];

  constructor(readonly doc: OpenApiDocument) {
    addFormats(this.ajv);
    for (const [name, schema] of Object.entries(doc.components.schemas)) this.ajv.addSchema({ ...(toJsonSchema(schema) as object), $id: name });
    this.operations = operationsOf(doc);
  }

  /** The operation a request reached, and its path parameters. */
  find(method: string, url: string): { operation: DocumentedOperation; params: Record<string, string> } | undefined {
    const path = url.split('?')[0];
    const matches = this.operations
      .filter((o) => o.method === method.toUpperCase())
      .map((operation) => {
        const names: string[] = [];
        const source = operation.path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{([^}]+)\}/g, (_, name: string) => (names.push(name), '([^/]+)'));
        const m = new RegExp(`^${source}$`).exec(path);
        return m ? { operation, params: Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(m[i + 1])])) } : undefined;
      })
      .filter((m) => m !== undefined);
    // A literal segment beats a parameter: the route with the fewest parameters.
    return matches.sort((a, b) => Object.keys(a.params).length - Object.keys(b.params).length)[0];
  }

  check(method: string, url: string, answer: Answer): void {
    const found = this.find(method, url);
    if (!found) return void this.failures.push(`${method} ${url}: no operation in the document`);
    const { op } = found.operation;
    const where = `${op.operationId} (${method} ${url}) answered ${answer.status}`;
    const body = answer.body as { type?: string } | undefined;
    this.seen.add(`${op.operationId} ${answer.status}`);
    if (body?.type) this.seen.add(`${op.operationId} ${answer.status} ${body.type}`);
    const response = op.responses[String(answer.status)];
    if (!response) return void this.failures.push(`${where}${body?.type ? ` ${body.type}` : ''}: status not documented`);

    const mediaType = String(answer.headers['content-type'] ?? '').split(';')[0].trim();
    const content = response.content ?? {};
    if (!(mediaType in content)) this.failures.push(`${where}: ${mediaType || 'no content type'}, documented ${Object.keys(content).join(', ') || 'none'}`);
    else {
      const validate = this.validator(`${op.operationId} ${answer.status} ${mediaType}`, content[mediaType].schema);
      if (!validate(mediaType.startsWith('text/') ? answer.text : answer.body)) {
        const errors = (validate.errors ?? []).map((e) => `${e.instancePath || '(body)'} ${e.message}${e.params.additionalProperty ? `: ${e.params.additionalProperty}` : ''}`);
        this.failures.push(`${where}: body does not match the schema: ${errors.join('; ')}`);
      }
    }

    const documented = Object.fromEntries(Object.entries(response.headers ?? {}).map(([name, h]) => [name.toLowerCase(), h]));
    for (const [name, header] of Object.entries(documented)) {
      const value = answer.headers[name];
      if (header.required && value === undefined) this.failures.push(`${where}: no ${name} header`);
      if (value !== undefined && header.schema?.type === 'integer' && !/^\d+$/.test(String(value))) this.failures.push(`${where}: ${name} ${String(value)} is not an integer`);
    }
    for (const name of CONTRACT_HEADERS)
      if (answer.headers[name] !== undefined && !(name in documented)) this.failures.push(`${where}: sends ${name}, which the document does not list`);

    if (mediaType === 'application/problem+json' && body?.type && !documentedTypes(response).includes(body.type))
      this.failures.push(`${where}: type ${body.type} is not listed (${documentedTypes(response).join(', ')})`);
  }

  /** The failures since the last call. */
  takeFailures(): string[] {
    const failures = this.failures;
    this.failures = [];
    return failures;
  }

  /** Each documented status, and each problem type a response lists, that no answer showed. */
  unobserved(): string[] {
    const missing: string[] = [];
    for (const { op } of this.operations)
      for (const [status, response] of Object.entries(op.responses)) {
        if (status === 'default') continue;
        if (!this.seen.has(`${op.operationId} ${status}`)) missing.push(`${op.operationId} ${status}`);
        for (const type of documentedTypes(response)) if (!this.seen.has(`${op.operationId} ${status} ${type}`)) missing.push(`${op.operationId} ${status} ${type}`);
      }
    return missing;
  }

  private validator(key: string, schema: unknown): ValidateFunction {
    let validate = this.validators.get(key);
    if (!validate) this.validators.set(key, (validate = this.ajv.compile(toJsonSchema(schema) as object)));
    return validate;
  }
}
