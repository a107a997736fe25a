// Small measuring tools for the benchmarks: wall time, throughput, percentiles and the peak resident
// memory of a process sampled from /proc while the work runs.
import { readFileSync, readdirSync } from 'node:fs';

export const mebibyte = 1024 * 1024;

export function mibPerSecond(bytes: number, ms: number): string {
  return `${(bytes / mebibyte / (ms / 1000)).toFixed(1)} MiB/s`;
}

export function percentile(sortedMs: number[], fraction: number): number {
  if (sortedMs.length === 0) return Number.NaN;
  return sortedMs[Math.min(sortedMs.length - 1, Math.floor(fraction * sortedMs.length))] ?? Number.NaN;
}

export function formatMs(ms: number): string {
  return ms < 10 ? `${ms.toFixed(2)} ms` : `${Math.round(ms)} ms`;
}

/** Resident set size of a process in bytes (VmRSS), or undefined once it is gone. */
export function rssOf(pid: number): number | undefined {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** The local runtime's worker processes: children of this process running the action proxy. */
export function workerPids(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== process.pid) continue;
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('action-proxy')) pids.push(Number(entry));
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return pids;
}

/** Samples `sample()` every `intervalMs` until stopped; returns the highest value seen. */
export function peakSampler(sample: () => number | undefined, intervalMs = 25): { stop(): number } {
  let peak = sample() ?? 0;
  const timer = setInterval(() => {
    peak = Math.max(peak, sample() ?? 0);
  }, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      peak = Math.max(peak, sample() ?? 0);
      return peak;
    },
  };
}

export function table(rows: Array<Record<string, string>>): string {
  const columns = Object.keys(rows[0] ?? {});
  const widths = columns.map((column) => Math.max(column.length, ...rows.map((row) => (row[column] ?? '').length)));
  const render = (cells: string[]) => `| ${cells.map((cell, index) => cell.padEnd(widths[index] ?? 0)).join(' | ')} |`;
  return [render(columns), render(widths.map((width) => '-'.repeat(width))), ...rows.map((row) => render(columns.map((column) => row[column] ?? '')))].join('\n');
}
