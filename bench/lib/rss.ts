import { readFileSync } from 'node:fs';
import { processCpuMs } from './cpu';

/** The kernel's high-water mark of a process's resident set (VmHWM), in MiB; null once it has gone. */
export function peakRssMiB(pid: number): number | null {
  try {
    const match = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/**
 * Samples a child's VmHWM and CPU time until stopped. A high-water mark and a CPU counter only
 * grow, so the last sample before the exit is the figure (within one sampling interval of CPU).
 */
export function watchProcess(pid: number, everyMs = 100): { stop(): { peakRssMiB: number; cpuMs: number } } {
  let peak = 0;
  let cpu = 0;
  const sample = () => {
    const now = peakRssMiB(pid);
    if (now !== null && now > peak) peak = now;
    cpu = Math.max(cpu, processCpuMs(pid));
  };
  const timer = setInterval(sample, everyMs);
  sample();
  return {
    stop() {
      clearInterval(timer);
      return { peakRssMiB: peak, cpuMs: cpu };
    },
  };
}
