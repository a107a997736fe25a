// The analyzers alone, in this process: how fast one read of a file goes through every analyzer
// that accepts it, and how much memory that takes beyond what the process already held.
import { runAnalyzers } from '../src/analyzers/run.js';
import { generate, inputContentTypes, type InputKind } from './generate.js';
import { residentBytes } from '../test/helpers/processes.js';
import { mebibyte, mibPerSecond, peakSampler } from './measure.js';

export async function benchAnalyzers(sizeBytes: number): Promise<Array<Record<string, string>>> {
  const rows: Array<Record<string, string>> = [];
  for (const kind of ['csv', 'ndjson', 'text', 'binary'] as InputKind[]) {
    globalThis.gc?.();
    const baseline = residentBytes(process.pid) ?? 0;
    const sampler = peakSampler(() => residentBytes(process.pid));
    const started = performance.now();
    const report = await runAnalyzers(generate(kind, sizeBytes), {
      contentType: inputContentTypes[kind],
      filename: `bench.${kind}`,
      size: sizeBytes,
    });
    const elapsedMs = performance.now() - started;
    const peak = sampler.stop();
    rows.push({
      input: `${kind}, ${sizeBytes / mebibyte} MiB`,
      analyzers: report.ran.join(' '),
      throughput: mibPerSecond(report.bytes, elapsedMs),
      'time': `${(elapsedMs / 1000).toFixed(1)} s`,
      'RSS growth': `${Math.max(0, Math.round((peak - baseline) / mebibyte))} MiB`,
    });
    console.log(`  analyzers: ${kind} done (${(elapsedMs / 1000).toFixed(1)} s)`);
  }
  return rows;
}
