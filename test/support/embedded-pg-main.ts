/**
 * Runs an embedded PostgreSQL in its own process so that outage specs can stop and restart it on
 * the same port while the server under test keeps running:
 *   ts-node test/support/embedded-pg-main.ts DATA_DIR PORT   → prints "ready <app url> <owner url>", stops on SIGTERM
 */
import { startEmbeddedPostgres } from '../../src/read-store/embedded-postgres';

async function main(): Promise<void> {
  const [dataDir, port] = process.argv.slice(2);
  const handle = await startEmbeddedPostgres(dataDir, 'copydesk', { port: Number(port) });
  process.stdout.write(`ready ${handle.url} ${handle.ownerUrl}\n`);
  const stop = async () => {
    await handle.stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
