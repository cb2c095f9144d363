import { Client } from 'pg';
import { PG_TIMEOUTS } from '../event-store/postgres-timeouts';

/** A sleep that `wake()` cuts short, and that ends at once while `stopped()` says so. */
export class Pause {
  private wakeUp: () => void = () => undefined;

  constructor(private readonly stopped: () => boolean) {}

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeUp = () => undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeUp = done;
      if (this.stopped()) done();
    });
  }

  wake(): void {
    this.wakeUp();
  }
}

export interface LockConnectionOptions {
  databaseUrl: string;
  /** `application_name`, to tell processes apart in pg_stat_activity. */
  applicationName: string;
  /** LISTENed to; each notification's payload goes to `onNotification`. */
  channel: string;
  onNotification: (payload: string) => void;
  /** Between turns while connected (a notification may cut it short through `pause`). */
  pollMs: number;
  pause: Pause;
  stopped: () => boolean;
  logger: { warn(message: string): void };
  /** Names the connection in the warning when it is lost. */
  label: string;
}

/**
 * Holds one dedicated connection for advisory locks and LISTEN until stopped. While it answers,
 * `turn(client)` runs every `pollMs` (taking locks, starting work). When it is lost — an error, its
 * end, or no answer to the heartbeat a server that stopped answering needs — `release()` stops the work
 * the locks guarded, before the connection (and with it the locks) goes, never after; then a new
 * connection is made after a back-off (100 ms doubling to 2 s).
 */
export async function holdLockConnection(options: LockConnectionOptions, turn: (client: Client) => Promise<void>, release: () => Promise<void>): Promise<void> {
  let delay = 100;
  while (!options.stopped()) {
    const client = new Client({ connectionString: options.databaseUrl, application_name: options.applicationName, ...PG_TIMEOUTS });
    let lost = false;
    const connectionLost = new Promise<void>((resolve) => {
      client.on('error', () => ((lost = true), resolve()));
      client.on('end', () => ((lost = true), resolve()));
    });
    try {
      await client.connect();
      client.on('notification', (message) => options.onNotification(message.payload ?? ''));
      await client.query(`LISTEN ${options.channel}`);
      delay = 100;
      while (!options.stopped() && !lost) {
        await turn(client);
        await Promise.race([connectionLost, options.pause.sleep(options.pollMs)]);
        if (!options.stopped() && !lost) await client.query('SELECT 1');
      }
    } catch (error) {
      if (!options.stopped()) options.logger.warn(`${options.label} connection: ${error instanceof Error ? error.message : String(error)}`);
    }
    await release();
    await client.end().catch(() => undefined);
    if (options.stopped()) break;
    await options.pause.sleep(delay);
    delay = Math.min(delay * 2, 2000);
  }
}
