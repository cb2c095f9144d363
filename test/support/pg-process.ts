import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface PgProcess {
  /** The application's login. */
  url: string;
  /** The superuser's (migrations). */
  ownerUrl: string;
  /** Sends a signal (SIGSTOP, SIGCONT) to every PostgreSQL process of the cluster; answers how many. */
  signal(signal: NodeJS.Signals): number;
  stop(): Promise<void>;
}

/** The processes below `root` (by their parent ids in /proc), with their command names. */
function descendants(root: number): { pid: number; name: string }[] {
  const children = new Map<number, { pid: number; name: string }[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // "pid (comm) state ppid …": comm may hold spaces and parentheses, so split after the last ')'.
      const close = stat.lastIndexOf(')');
      const ppid = Number(stat.slice(close + 2).split(' ')[1]);
      const name = stat.slice(stat.indexOf('(') + 1, close);
      children.set(ppid, [...(children.get(ppid) ?? []), { pid: Number(entry), name }]);
    } catch {
      // exited meanwhile
    }
  }
  const found: { pid: number; name: string }[] = [];
  const visit = (pid: number) => {
    for (const child of children.get(pid) ?? []) {
      found.push(child);
      visit(child.pid);
    }
  };
  visit(root);
  return found;
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
    signal: (signal) => {
      const postgres = descendants(child.pid!).filter((p) => p.name.startsWith('postgres'));
      for (const p of postgres) process.kill(p.pid, signal);
      return postgres.length;
    },
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
