// Small measuring tools for the benchmarks: wall time, throughput, percentiles and the peak resident
// memory of a process sampled from /proc while the work runs.

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

export const mebibyte = 1024 * 1024;

/** Read size of the file streams: about what an S3 GET body hands over per chunk. */
export const readChunkBytes = 64 * 1024;

/** One timed thing: an analyzer run or an anchor, over a file. */
export type Measured = { name: string; run: (file: string) => Promise<unknown> };

export function readStream(file: string) {
  return createReadStream(file, { highWaterMark: readChunkBytes });
}

/** The anchors every file benchmark measures in the same run: the machine's read and hash speed. */
export const fileAnchors: Measured[] = [
  {
    name: 'read the file',
    run: async (file) => {
      let bytes = 0;
      for await (const chunk of readStream(file)) bytes += (chunk as Buffer).length;
      return bytes;
    },
  },
  {
    name: 'SHA-256',
    run: async (file) => {
      const hash = createHash('sha256');
      for await (const chunk of readStream(file)) hash.update(chunk as Buffer);
      return hash.digest('hex');
    },
  },
];

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

/** Median, min and max of a run's figures. */
export function stats(values: number[]): { median: number; min: number; max: number } {
  const sorted = [...values].sort((left, right) => left - right);
  const middle = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
  return { median, min: sorted[0] as number, max: sorted[sorted.length - 1] as number };
}

/** `median (min–max)`, or the one value alone. */
export const spread = (values: number[], format: (value: number) => string) => {
  const { median, min, max } = stats(values);
  return values.length === 1 ? format(median) : `${format(median)} (${format(min)}–${format(max)})`;
};

/** A throughput as a table shows it: whole above 100, one decimal below. */
export const figure = (value: number) => (value >= 100 ? value.toFixed(0) : value.toFixed(1));
