// Looking at processes from outside, through Linux's /proc: the tests use it to prove nothing is
// left running, and the benchmarks to sample a worker's memory. No test framework in here, so the
// benchmarks can import it too.
import { readdirSync, readFileSync } from 'node:fs';
import { isAlive } from '../../src/local/postgres.js';

/** Alive and not a zombie. */
export const isRunning = isAlive;

/** Resident set size in bytes (VmRSS): the same reader the functions runtime enforces memory limits with. */
export { residentBytes } from '../../src/local/processes.js';

/** Parent pid of every process, from /proc/<pid>/stat ("pid (comm) state ppid …"; comm may hold spaces). */
function parentPids(): Map<number, number> {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // The process ended while we looked.
    }
  }
  return parents;
}

/** Every process descending from `root`. */
export function descendants(root: number): number[] {
  const parents = parentPids();
  const found: number[] = [];
  let generation = [root];
  while (generation.length > 0) {
    generation = [...parents].filter(([, parent]) => generation.includes(parent)).map(([pid]) => pid);
    found.push(...generation);
  }
  return found;
}

/** The local runtime's worker processes started by this process: children running the action proxy. */
export function workerPids(): number[] {
  return [...parentPids()]
    .filter(([pid, parent]) => parent === process.pid && commandLine(pid).includes('action-proxy.cjs'))
    .map(([pid]) => pid);
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}

/** The postmaster of a Postgres data directory: the first line of its postmaster.pid. */
export function postmasterPid(dataDir: string): number {
  return Number(readFileSync(`${dataDir}/postmaster.pid`, 'utf8').split('\n')[0]);
}

/**
 * SIGSTOPs a process and everything it started, as a hung server (or a dead network path) looks
 * to its clients: connections stay open and nothing answers. The root first, so it forks nothing
 * that escapes. Returns what resumes them all; calling it again does nothing.
 */
export function pauseProcessTree(root: number): () => void {
  process.kill(root, 'SIGSTOP');
  let paused = [root, ...descendants(root)];
  for (const pid of paused.slice(1)) process.kill(pid, 'SIGSTOP');
  return () => {
    for (const pid of paused) {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        // Ended meanwhile (a backend whose client went away).
      }
    }
    paused = [];
  };
}
