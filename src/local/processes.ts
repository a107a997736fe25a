// A process's memory as Linux's /proc shows it from outside: the functions runtime watches its
// workers with it (a container's limit counts everything resident, Buffers and native memory
// included, not only the V8 heap), and the tests and benchmarks sample with it.
import { readFileSync } from 'node:fs';

export interface ProcessMemory {
  /** VmRSS: resident now. */
  residentBytes: number;
  /** VmHWM: the most it has been resident since it started, so a peak between two samples is not missed. */
  peakResidentBytes: number;
}

/** True where /proc/<pid>/status can be read (Linux). */
export const canReadProcessMemory = processMemory(process.pid) !== undefined;

/** Undefined once the process is gone (a zombie has no memory lines) or where there is no /proc. */
export function processMemory(pid: number): ProcessMemory | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const resident = kibField(status, 'VmRSS');
  const peak = kibField(status, 'VmHWM');
  if (resident === undefined || peak === undefined) return undefined;
  return { residentBytes: resident, peakResidentBytes: Math.max(peak, resident) };
}

/** Resident set size of a process in bytes (VmRSS), or undefined once it is gone. */
export function residentBytes(pid: number): number | undefined {
  return processMemory(pid)?.residentBytes;
}

function kibField(status: string, name: string): number | undefined {
  const kib = new RegExp(`^${name}:\\s+(\\d+)\\s+kB$`, 'm').exec(status)?.[1];
  return kib === undefined ? undefined : Number(kib) * 1024;
}
