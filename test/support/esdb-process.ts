import { spawn } from 'node:child_process';
import { join } from 'node:path';

export interface EsdbProcess {
  connectionString: string;
  stop(): Promise<void>;
}

/**
 * The EventStoreDB wire-protocol test server in a process of its own (`main.ts`), for specs whose
 * own process is busy: its CPU then does not compete with the spec's event loop.
 */
export async function startEsdbProcess(): Promise<EsdbProcess> {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', join(__dirname, 'esdb-test-server', 'main.ts'), '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const connectionString = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`esdb-test-server did not start:\n${output}`)), 60000);
    const read = (d: Buffer) => {
      output += d;
      const match = /connection string: (\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout!.on('data', read);
    child.stderr!.on('data', read);
    void exited.then(() => reject(new Error(`esdb-test-server exited:\n${output}`)));
  });
  return {
    connectionString,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
