/**
 * The peer: the bench mix's article commands the way a TypeScript team would build them with Emmett
 * on PostgreSQL. A Fastify route verifies the bearer token, validates the body (JSON schema), builds
 * the command and calls Emmett's command handler (read the stream, fold, decide, append with the
 * expected stream version, retried on a version conflict); the article's read model is a pongo
 * single-stream projection run inline, in the append's transaction. `GET /articles/:id` reads it.
 *
 * Run by the commands benchmark: `node -r ts-node/register/transpile-only bench/emmett-peer/server.ts`
 * with DATABASE_URL, PORT and AUTH_JWT_SECRET; prints "peer listening on" when ready.
 */
import { CommandHandler, type ReadEvent, STREAM_DOES_NOT_EXIST, projections } from '@event-driven-io/emmett';
import { getPostgreSQLEventStore, pongoSingleStreamProjection } from '@event-driven-io/emmett-postgresql';
import { pongoClient } from '@event-driven-io/pongo';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import jwt from 'jsonwebtoken';
import { createSecretKey, randomUUID } from 'node:crypto';
import {
  type ArticleCommand,
  type ArticleDocument,
  type ArticleEvent,
  Refused,
  type SourceRegistered,
  decide,
  evolve,
  evolveDocument,
  evolveSource,
  initialSource,
  initialState,
} from './article';

const connectionString = process.env.DATABASE_URL!;
// A key object made once, as Copydesk's guard does: given a string, jsonwebtoken makes one per verification.
const secret = createSecretKey(Buffer.from(process.env.AUTH_JWT_SECRET!, 'utf8'));

const articleProjection = pongoSingleStreamProjection<ArticleDocument, ArticleEvent>({
  collectionName: 'articles',
  canHandle: ['ArticleDrafted', 'QuoteAdded', 'QuoteAttributed', 'ClaimRecorded', 'TopicTagged'],
  getDocumentId: (event: ReadEvent<ArticleEvent>) => event.metadata.streamName.slice('article-'.length),
  evolve: evolveDocument,
});

const eventStore = getPostgreSQLEventStore(connectionString, { projections: projections.inline([articleProjection]) });
const readModels = pongoClient(connectionString);
const articlesCollection = () => readModels.db().collection<ArticleDocument>('articles');

const handleArticle = CommandHandler({ evolve, initialState, mapToStreamId: (id) => `article-${id}`, retry: { onVersionConflict: 10 } });
const handleSource = CommandHandler({ evolve: evolveSource, initialState: initialSource, mapToStreamId: (id) => `source-${id}` });

const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });

/** The token, as Copydesk's guard checks it (HS256, the same secret). */
function actorOf(request: FastifyRequest): string {
  const header = request.headers.authorization ?? '';
  const payload = jwt.verify(header.replace(/^Bearer /, ''), secret, { algorithms: ['HS256'] }) as { sub: string };
  return payload.sub;
}

const text = (max: number) => ({ type: 'string', minLength: 1, maxLength: max });
const body = (properties: Record<string, object>, required: string[]) => ({ body: { type: 'object', additionalProperties: false, properties, required } });

async function run(reply: FastifyReply, articleId: string, command: ArticleCommand, status: 200 | 201, created: Record<string, string> = {}) {
  const result = await handleArticle(eventStore, articleId, (state) => decide(command, state));
  return reply
    .status(result.newEvents.length > 0 ? status : 200)
    .header('etag', `"${result.nextExpectedStreamVersion - 1n}"`)
    .send({ id: articleId, revision: Number(result.nextExpectedStreamVersion) - 1, position: String(result.lastEventGlobalPosition), ...created });
}

app.setErrorHandler((error: Error & { statusCode?: number; validation?: unknown }, _request, reply) => {
  // EmmettError resets its prototype, so a subclass is recognised by its members.
  if (Refused.is(error)) return reply.status(error.errorCode).type('application/problem+json').send({ type: error.type, status: error.errorCode, detail: error.message });
  if (error.validation) return reply.status(400).type('application/problem+json').send({ type: 'validation-failed', status: 400, detail: error.message });
  if (error.name === 'JsonWebTokenError' || error.name === 'TokenExpiredError') return reply.status(401).send({ type: 'unauthorized', status: 401 });
  if (error.name === 'ConcurrencyError' || error.name === 'ExpectedVersionConflictError') return reply.status(409).send({ type: 'concurrency-conflict', status: 409 });
  return reply.status(error.statusCode ?? 500).send({ type: 'internal-error', status: error.statusCode ?? 500, detail: error.message });
});

const meta = (request: FastifyRequest) => ({ actor: actorOf(request), now: new Date().toISOString() });

app.post('/sources', { schema: body({ name: text(200), kind: { enum: ['person', 'organization', 'document', 'wire'] }, title: text(200) }, ['name', 'kind']) }, async (request, reply) => {
  const { name, kind, title } = request.body as { name: string; kind: string; title?: string };
  actorOf(request);
  const sourceId = randomUUID();
  const event: SourceRegistered = { type: 'SourceRegistered', data: { sourceId, name, kind, title: title ?? null } };
  const result = await handleSource(eventStore, sourceId, () => [event], { expectedStreamVersion: STREAM_DOES_NOT_EXIST });
  return reply.status(201).send({ id: sourceId, revision: 0, position: String(result.lastEventGlobalPosition) });
});

app.post('/articles', { schema: body({ headline: text(300), body: text(100_000), byline: text(200) }, ['headline', 'body']) }, async (request, reply) => {
  const { headline, body: articleBody, byline } = request.body as { headline: string; body: string; byline?: string };
  const articleId = randomUUID();
  return run(reply, articleId, { type: 'DraftArticle', data: { articleId, headline, body: articleBody, byline: byline ?? null }, metadata: meta(request) }, 201);
});

app.post('/articles/:id/quotes', { schema: body({ text: text(5000), speaker: text(200) }, ['text']) }, async (request, reply) => {
  const { id } = request.params as { id: string };
  const { text: quote, speaker } = request.body as { text: string; speaker?: string };
  const quoteId = randomUUID();
  return run(reply, id, { type: 'AddQuote', data: { quoteId, text: quote, speaker: speaker ?? null }, metadata: meta(request) }, 201, { quoteId });
});

app.post(
  '/articles/:id/quotes/:quoteId/attribution',
  { schema: body({ sourceId: { type: 'string', format: 'uuid' }, method: text(50), attribution: text(300) }, ['sourceId', 'method']) },
  async (request, reply) => {
    const { id, quoteId } = request.params as { id: string; quoteId: string };
    const { sourceId, method, attribution } = request.body as { sourceId: string; method: string; attribution?: string };
    const metadata = meta(request);
    const { state: source } = await eventStore.aggregateStream(`source-${sourceId}`, { evolve: evolveSource, initialState: initialSource });
    const snapshot = source.status === 'registered' ? { id: source.id, name: source.name } : null;
    return run(reply, id, { type: 'AttributeQuote', data: { quoteId, source: snapshot, attribution: attribution ?? null, method }, metadata }, 200);
  },
);

app.post('/articles/:id/claims', { schema: body({ text: text(5000), quoteId: { type: 'string', format: 'uuid' } }, ['text']) }, async (request, reply) => {
  const { id } = request.params as { id: string };
  const { text: claim, quoteId } = request.body as { text: string; quoteId?: string };
  const claimId = randomUUID();
  return run(reply, id, { type: 'RecordClaim', data: { claimId, text: claim, quoteId: quoteId ?? null }, metadata: meta(request) }, 201, { claimId });
});

app.post('/articles/:id/topics', { schema: body({ topic: text(100) }, ['topic']) }, async (request, reply) => {
  const { id } = request.params as { id: string };
  const { topic } = request.body as { topic: string };
  return run(reply, id, { type: 'TagTopic', data: { label: topic }, metadata: meta(request) }, 200);
});

app.get('/articles/:id', async (request, reply) => {
  actorOf(request);
  const { id } = request.params as { id: string };
  const article = await articlesCollection().findOne({ _id: id });
  if (!article) return reply.status(404).send({ type: 'article-not-found', status: 404 });
  const { _version, ...document } = article as ArticleDocument & { _version?: bigint };
  return { ...document, version: Number(_version) };
});

async function main(): Promise<void> {
  await eventStore.schema.migrate();
  // The projection's collection too, before any request: otherwise the first requests, side by side, each
  // create its table (CREATE TABLE IF NOT EXISTS races in PostgreSQL), and one failed with a 500 in CI.
  await articlesCollection().schema.migrate();
  const address = await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
  process.stderr.write(`peer listening on ${address}\n`);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    void app
      .close()
      .then(() => Promise.all([eventStore.close(), readModels.close()]))
      .finally(() => process.exit(0));
  });

main().catch((error: unknown) => {
  process.stderr.write(`peer: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
