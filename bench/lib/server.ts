import { ChildProcess, spawn } from 'node:child_process';
import { freePort } from '../../src/read-store/embedded-postgres';
import { onInterrupt } from './cleanup';
import { childEnv } from './env';
import { MAIN_JS } from './paths';

export interface ServerProcess {
  url: string;
  pid: number;
  output(): string;
  /** SIGTERM and wait: the server drains and its projection runner releases its locks. */
  stop(): Promise<void>;
}

/**
 * `copydesk serve` in a child process on `dataDir` (it attaches to the embedded PostgreSQL the
 * benchmark started there), so the load generator and the server never share an event loop.
 */
export async function startServer(dataDir: string, options: { eventStore?: string; nodeArgs?: string[]; mainJs?: string; env?: Record<string, string> } = {}): Promise<ServerProcess> {
  const port = await freePort();
  const env = childEnv(dataDir, { PORT: String(port), RATE_LIMIT_WRITES_PER_MINUTE: '1000000000', ...options.env }, options.eventStore);
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), options.mainJs ?? MAIN_JS, 'serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  return superviseServer(child, port, 'copydesk listening on', 'server');
}

/**
 * A server in `child` listening on `port`: resolves once its stderr says `ready`, with its last output
 * kept for errors; `stop()` sends SIGTERM, then SIGKILL after 15 s, and an interrupted benchmark
 * stops it too.
 */
export async function superviseServer(child: ChildProcess, port: number, ready: string, label: string): Promise<ServerProcess> {
  let output = '';
  const collect = (d: Buffer) => (output = (output + d).slice(-20_000));
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${label} did not start in 60 s:\n${output}`)), 60_000);
    child.stderr?.on('data', () => {
      if (output.includes(ready)) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${label} exited with ${code} before listening:\n${output}`));
    });
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  };
  const forget = onInterrupt(stop);
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    output: () => output,
    stop: async () => {
      forget();
      await stop();
    },
  };
}
