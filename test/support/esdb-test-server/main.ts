/**
 * Standalone EventStoreDB test server:
 *   npx ts-node --transpile-only test/support/esdb-test-server/main.ts --port 2113 [--host 127.0.0.1] [--no-batch-append]
 * Port 0 picks a free port. Prints `esdb-test-server listening on HOST:PORT` and the connection
 * string, then runs until killed (SIGINT / SIGTERM stop it cleanly).
 */
import { startEsdbTestServer } from './index';

function argValue(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i >= 0) return args[i + 1];
  const inline = args.find((a) => a.startsWith(`${name}=`));
  return inline?.slice(name.length + 1);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const portArg = argValue(args, '--port') ?? '0';
  const port = Number(portArg);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid --port ${portArg}`);
  const host = argValue(args, '--host') ?? '127.0.0.1';
  const server = await startEsdbTestServer({ port, host, advertiseBatchAppend: !args.includes('--no-batch-append') });
  process.stdout.write(`esdb-test-server listening on ${host}:${server.port}\n`);
  process.stdout.write(`connection string: ${server.connectionString}\n`);
  const shutdown = () => {
    void server.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

main().catch((error: unknown) => {
  process.stderr.write(`esdb-test-server: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
