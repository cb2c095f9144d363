import { parseArgs } from 'node:util';
import { createApp, listeningOn } from '../app/create-app';
import { startRuntime } from '../app/runtime';
import { ROLES, parseTtl, signToken } from '../auth/jwt';
import { ConfigError, readConfig, resolveJwtSecret } from '../config/configuration';
import { Role } from '../newsroom/actor';
import { AuditReadModelRecord, verifyAllStreams, verifyStream } from '../audit/audit-verification';
import { ReadModels } from '../read-store/read-models';
import { cliActor, importArticle } from './import.command';
import { projectionsRebuild, projectionsRetry, projectionsSkip, projectionsStatus } from './projections.command';

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

Configuration comes from the environment: PORT, DATA_DIR, DATABASE_URL, EVENTSTORE_CONNECTION_STRING,
AUTH_JWT_SECRET (see README.md).`;

class UsageError extends Error {}

async function serve(): Promise<void> {
  const runtime = await startRuntime(readConfig());
  const app = await createApp(runtime);
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
  const secret = resolveJwtSecret(readConfig());
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
  try {
    const result = await importArticle(runtime, positionals[0], values.headline, values.byline);
    process.stdout.write(`${result.id}\n`);
  } finally {
    await runtime.close();
  }
}

async function audit(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { stream: { type: 'string' } } });
  if (positionals[0] !== 'verify' || positionals.length !== 1) throw new UsageError('audit takes verify [--stream STREAM]');
  const runtime = await startRuntime(readConfig());
  try {
    const record = new AuditReadModelRecord(new ReadModels(runtime.pool));
    const results = values.stream
      ? [await verifyStream(runtime.eventStore, values.stream, record)]
      : (await verifyAllStreams(runtime.eventStore, record)).broken;
    const broken = results.filter((r) => !r.valid);
    for (const r of broken) {
      const b = r.firstBreak!;
      process.stdout.write(`${r.streamId}: first mismatch at revision ${b.revision} (position ${b.position}, ${b.type}, event ${b.eventId}): ${b.problem}\n`);
    }
    if (values.stream && broken.length === 0) process.stdout.write(`${values.stream}: ${results[0].events} events, chain intact, head ${results[0].headHash}\n`);
    if (!values.stream && broken.length === 0) process.stdout.write('every stream\'s chain is intact\n');
    if (broken.length > 0) process.exitCode = 1;
  } finally {
    await runtime.close();
  }
}

async function projections(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  if (!['status', 'rebuild', 'retry', 'skip'].includes(sub)) throw new UsageError('projections takes status, rebuild, retry or skip');
  const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { position: { type: 'string' }, reason: { type: 'string' } } });
  if ((sub === 'retry' || sub === 'skip') && positionals.length !== 1) throw new UsageError(`projections ${sub} takes one projection NAME`);
  if (sub === 'skip' && (!values.position || !values.reason)) throw new UsageError('projections skip needs --position P and --reason TEXT');
  const runtime = await startRuntime(readConfig());
  try {
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
