import { parseArgs } from 'node:util';
import type { Runtime, RuntimeOptions } from '../app/runtime';
import { ROLES, parseTtl, signToken } from '../auth/jwt';
import { ConfigError, CopydeskConfig, readConfig, resolveJwtSecret } from '../config/configuration';
import { Role } from '../newsroom/actor';
import type { ChainVerification } from '../newsroom/hash-chain';
import { dataSourcesLine, existingJwtSecret, jwtSecretSource } from './data-sources';

const USAGE = `Usage: copydesk <command>

  serve                                         the HTTP API and the projection runner on PORT (default 3000)
  token --sub ID --name NAME --role ROLE [--role ROLE…] [--ttl 8h]
                                                print a signed JWT (roles: ${ROLES.join(', ')})
  projections status                            one line a projection: name, position, lag, status
  projections rebuild [NAME…]                   rebuild from the first event (progress on stderr)
  projections retry NAME                        retry a failed projection now
  projections skip NAME --position P --reason TEXT
                                                pass a failed projection over the event it fails on
                                                (recorded in the audit trail)
  import FILE --headline TEXT [--byline TEXT]   draft an article from a plain-text file; prints its id
  audit verify [--stream STREAM]                recompute the hash chains of every stream (or one) and
                                                check the audit read model's events are all still there;
                                                exits 1 naming the first event that does not match

Each command says on stderr which DATA_DIR, database and secret it uses. token, projections status,
retry and skip, and audit verify only use what exists: they refuse to make a new database or secret.

Configuration comes from the environment: PORT, DATA_DIR, DATABASE_URL, DATABASE_OWNER_URL,
EVENTSTORE_CONNECTION_STRING, AUTH_JWT_SECRET (see README.md).`;

class UsageError extends Error {}

/** Prints where the data comes from before anything else is said. */
const say = (line: string) => void process.stderr.write(`${line}\n`);

// The application and the database are loaded by the commands that use them, so that `token` and
// `--help` answer without loading Nest.
async function startRuntime(config: CopydeskConfig, options?: RuntimeOptions): Promise<Runtime> {
  return (await import('../app/runtime')).startRuntime(config, options);
}

async function serve(): Promise<void> {
  const runtime = await startRuntime(readConfig());
  const secret = jwtSecretSource(runtime.config);
  const { createApp, listeningOn } = await import('../app/create-app');
  const app = await createApp(runtime);
  say(dataSourcesLine(runtime, secret));
  await app.listen(runtime.config.port, runtime.config.host);
  process.stderr.write(`copydesk listening on ${listeningOn(app.getHttpServer().address())} (events: ${runtime.eventStore.kind})\n`);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`copydesk: ${signal}, shutting down\n`);
    await app.close();
    await runtime.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

function token(args: string[]): void {
  const { values } = parseArgs({
    args,
    options: { sub: { type: 'string' }, name: { type: 'string' }, role: { type: 'string', multiple: true }, ttl: { type: 'string', default: '8h' } },
  });
  if (!values.sub || !values.name || !values.role?.length) throw new UsageError('token needs --sub, --name and at least one --role');
  const unknown = values.role.filter((r) => !(ROLES as string[]).includes(r));
  if (unknown.length) throw new UsageError(`unknown role ${unknown.join(', ')}; roles are ${ROLES.join(', ')}`);
  let ttl: number;
  try {
    ttl = parseTtl(values.ttl!);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const config = readConfig();
  existingJwtSecret(config);
  say(`copydesk: DATA_DIR ${config.dataDir}; JWT secret: ${jwtSecretSource(config)}`);
  const secret = resolveJwtSecret(config);
  process.stdout.write(`${signToken(secret, { id: values.sub, name: values.name, roles: values.role as Role[] }, ttl)}\n`);
}

async function importCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { headline: { type: 'string' }, byline: { type: 'string' } },
  });
  if (positionals.length !== 1 || !values.headline) throw new UsageError('import needs FILE and --headline TEXT');
  const runtime = await startRuntime(readConfig());
  say(dataSourcesLine(runtime, null));
  try {
    const { importArticle } = await import('./import.command');
    const result = await importArticle(runtime, positionals[0], values.headline, values.byline);
    process.stdout.write(`${result.id}\n`);
  } finally {
    await runtime.close();
  }
}

async function audit(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { stream: { type: 'string' } } });
  if (positionals[0] !== 'verify' || positionals.length !== 1) throw new UsageError('audit takes verify [--stream STREAM]');
  const runtime = await startRuntime(readConfig(), { create: false });
  say(dataSourcesLine(runtime, null));
  try {
    const { AuditReadModelRecord, verifyAllStreams, verifyStream } = await import('../audit/audit-verification');
    const { ReadModels } = await import('../read-store/read-models');
    // The audit read model is the record a removed tail is found against; a database no server ever ran has none.
    const { rowCount } = await runtime.pool.query(`SELECT 1 FROM projection_status WHERE name = 'audit'`);
    const record = rowCount ? new AuditReadModelRecord(new ReadModels(runtime.pool)) : undefined;
    if (!record) say('copydesk: no audit read model here yet: checking the hash chains only');
    if (values.stream !== undefined) {
      const result = await verifyStream(runtime.eventStore, values.stream, record);
      if (result.events === 0 && result.valid) throw new Error(`there is no stream named ${values.stream}`);
      if (result.valid) process.stdout.write(`${result.streamId}: ${result.events} events, chain intact, head ${result.headHash}\n`);
      else writeBreak(result);
      if (!result.valid) process.exitCode = 1;
      return;
    }
    const all = await verifyAllStreams(runtime.eventStore, record);
    // Head hashes worth recording where whoever can write to the database cannot reach them.
    for (const result of all.results) {
      if (result.valid) process.stdout.write(`${result.streamId}: ${result.events} events, head ${result.headHash}\n`);
      else writeBreak(result);
    }
    const verdict = all.broken.length === 0 ? "every stream's chain is intact" : `${all.broken.length} of them broken`;
    process.stdout.write(`checked ${all.streams} streams, ${all.events} events: ${verdict}\n`);
    if (all.broken.length > 0) process.exitCode = 1;
  } finally {
    await runtime.close();
  }
}

function writeBreak(r: ChainVerification): void {
  const b = r.firstBreak!;
  process.stdout.write(`${r.streamId}: first mismatch at revision ${b.revision} (position ${b.position}, ${b.type}, event ${b.eventId}): ${b.problem}\n`);
}

async function projections(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  if (!['status', 'rebuild', 'retry', 'skip'].includes(sub)) throw new UsageError('projections takes status, rebuild, retry or skip');
  const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { position: { type: 'string' }, reason: { type: 'string' } } });
  if ((sub === 'retry' || sub === 'skip') && positionals.length !== 1) throw new UsageError(`projections ${sub} takes one projection NAME`);
  if (sub === 'skip' && (!values.position || !values.reason)) throw new UsageError('projections skip needs --position P and --reason TEXT');
  // Only a rebuild may start from nothing: the others read or act on projections that must exist.
  const runtime = await startRuntime(readConfig(), { create: sub === 'rebuild' });
  say(dataSourcesLine(runtime, null));
  try {
    const { projectionsRebuild, projectionsRetry, projectionsSkip, projectionsStatus } = await import('./projections.command');
    const { cliActor } = await import('./import.command');
    if (sub === 'status') await projectionsStatus(runtime);
    else if (sub === 'rebuild') await projectionsRebuild(runtime, positionals);
    else if (sub === 'retry') await projectionsRetry(runtime, positionals[0]);
    else await projectionsSkip(runtime, positionals[0], values.position!, values.reason!, cliActor(['admin']));
  } finally {
    await runtime.close();
  }
}

export async function main(argv: string[]): Promise<void> {
  const [command, ...args] = argv;
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  switch (command) {
    case 'serve':
      return serve();
    case 'token':
      return token(args);
    case 'import':
      return importCommand(args);
    case 'projections':
      return projections(args);
    case 'audit':
      return audit(args);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(`${USAGE}\n`);
      return;
    default:
      throw new UsageError(`unknown command ${command}`);
  }
}

/** Runs a command line and exits with 2 on a usage error, 1 on a failure. */
export function run(argv: string[]): void {
  main(argv).catch((error: unknown) => {
    if (error instanceof UsageError || error instanceof ConfigError || (error as { code?: string } | undefined)?.code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`copydesk: ${(error as Error).message}\n\n${USAGE}\n`);
      process.exit(2);
    }
    process.stderr.write(`copydesk: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}

if (require.main === module) run(process.argv.slice(2));
