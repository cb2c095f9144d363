import { PostgresProcess, reasonIn, stopPostmaster } from './postgres-process';

export interface Supervisor {
  /** Stops PostgreSQL (waiting for a restart under way), and starts it no more. */
  stop(): Promise<void>;
}

const FIRST_DELAY_MS = 500;
const LONGEST_DELAY_MS = 30_000;

/**
 * Keeps the PostgreSQL this process started running. When it exits without being asked to (the OOM
 * killer, a crash), `restart` starts it again on the same port, so that every pool on it, this
 * process's and those of processes attached to it, reconnects; its crash recovery replays the WAL,
 * so nothing committed is lost. Until then requests answer 503, as for any outage. Restarts wait
 * 0.5 s at first (the dead postmaster's backends must let go of its shared memory), doubling to
 * 30 s while they fail; `notice` says that it stopped, each failed restart, and that it runs again.
 */
export function supervise(first: PostgresProcess, restart: () => Promise<PostgresProcess>, notice: (line: string) => void, where: string): Supervisor {
  let current = first;
  let stopping = false;
  let recovering: Promise<void> | undefined;
  let wake: (() => void) | undefined;
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  const recover = async (how: string, log: string): Promise<void> => {
    // Killed by a signal, it wrote nothing of its own (its backends' last words are about its death).
    const why = how.startsWith('exited') ? ` (${reasonIn(log)})` : '';
    notice(`copydesk: the embedded PostgreSQL on ${where} ${how}${why}; starting it again`);
    for (let delay = FIRST_DELAY_MS; ; delay = Math.min(delay * 2, LONGEST_DELAY_MS)) {
      await pause(delay);
      if (stopping) return;
      try {
        current = await restart();
      } catch (error) {
        notice(`copydesk: the embedded PostgreSQL on ${where} did not start again (${(error as Error).message}); trying again in ${Math.min(delay * 2, LONGEST_DELAY_MS) / 1000} s`);
        continue;
      }
      watch(current);
      notice(`copydesk: the embedded PostgreSQL on ${where} runs again`);
      return;
    }
  };
  const watch = (server: PostgresProcess) =>
    void server.exited.then((how) => {
      if (!stopping && server === current) recovering = recover(how, server.log());
    });
  watch(first);

  return {
    stop: async () => {
      stopping = true;
      wake?.();
      await recovering;
      await stopPostmaster(current);
    },
  };
}
