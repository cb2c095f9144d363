import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { clusterDirOf } from '../../src/read-store/embedded/cluster-location';

const TICK_MS = 10; // USER_HZ is 100 on Linux

function stat(pid: number): { ppid: number; cpuMs: number } | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces; the fields after it are space separated.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(fields[1]), cpuMs: (Number(fields[11]) + Number(fields[12])) * TICK_MS };
  } catch {
    return null;
  }
}

/** CPU time (user + system) a process has used so far, in ms. */
export function processCpuMs(pid: number): number {
  return stat(pid)?.cpuMs ?? 0;
}

function postmasterPid(dataDir: string): number | null {
  try {
    return Number(readFileSync(join(clusterDirOf(dataDir), 'postmaster.pid'), 'utf8').split('\n')[0]) || null;
  } catch {
    return null;
  }
}

/** CPU time so far of the postmaster and every backend and worker under it, by pid. */
function postgresCpuByPid(postmaster: number | null): Map<number, number> {
  const byPid = new Map<number, number>();
  if (postmaster === null) return byPid;
  byPid.set(postmaster, stat(postmaster)?.cpuMs ?? 0);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const s = stat(Number(entry));
    if (s && s.ppid === postmaster) byPid.set(Number(entry), s.cpuMs);
  }
  return byPid;
}

/**
 * CPU used by the server, PostgreSQL and this process between the call and `stop()`, in ms.
 * Backends come and go with connections, so PostgreSQL is sampled every `everyMs` and a backend
 * that has exited counts with its last sample.
 */
export function cpuMeter(dataDir: string, serverPid?: number, everyMs = 250): { stop(): { serverMs: number; postgresMs: number; clientMs: number } } {
  const server = serverPid === undefined ? 0 : processCpuMs(serverPid);
  const postmaster = postmasterPid(dataDir);
  const initial = postgresCpuByPid(postmaster);
  const latest = new Map(initial);
  const sample = () => {
    for (const [pid, ms] of postgresCpuByPid(postmaster)) latest.set(pid, Math.max(ms, latest.get(pid) ?? 0));
  };
  const timer = setInterval(sample, everyMs);
  const client = process.cpuUsage();
  return {
    stop() {
      clearInterval(timer);
      sample();
      let postgresMs = 0;
      for (const [pid, ms] of latest) postgresMs += ms - (initial.get(pid) ?? 0);
      const used = process.cpuUsage(client);
      return {
        serverMs: serverPid === undefined ? 0 : processCpuMs(serverPid) - server,
        postgresMs,
        clientMs: (used.user + used.system) / 1000,
      };
    },
  };
}
