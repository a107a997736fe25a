// Small measuring tools for the benchmarks: wall time, throughput, percentiles and the peak resident
// memory of a process sampled from /proc while the work runs.

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
