import { spawn } from 'node:child_process';
import { join } from 'node:path';

export interface PgProcess {
  /** The application's login. */
  url: string;
  /** The superuser's (migrations). */
  ownerUrl: string;
  stop(): Promise<void>;
}

/** An embedded PostgreSQL in a child process on a fixed port and data directory (restartable). */
export async function startPgProcess(dataDir: string, port: number): Promise<PgProcess> {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', join(__dirname, 'embedded-pg-main.ts'), dataDir, String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const [url, ownerUrl] = await new Promise<string[]>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`embedded PostgreSQL did not start:\n${output}`)), 60000);
    child.stdout!.on('data', (d) => {
      output += d;
      const match = /ready (\S+) (\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve([match[1], match[2]]);
      }
    });
    child.stderr!.on('data', (d) => (output += d));
    void exited.then(() => reject(new Error(`embedded PostgreSQL exited:\n${output}`)));
  });
  return {
    url,
    ownerUrl,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
