// `npm run bench [-- analyzers|csv|system] [--size-mib N] [--quick]`: speed and memory, measured — not
// asserted in tests. Prints markdown tables and keeps them in bench/results.json (the last run);
// the README's figures come from this script on the dev machine. `--quick` (smaller files, fewer
// runs) finishes in under two minutes.
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { benchAnalyzers } from '../bench/analyzers.js';
import { benchCsv } from '../bench/csv.js';
import { mebibyte, table } from '../bench/measure.js';
import { benchLatency, benchProcessing, benchUpload, startBenchPlatform } from '../bench/system.js';
import { buildProject, formatBytes } from '../src/local/build.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { 'size-mib': { type: 'string' }, calls: { type: 'string' }, quick: { type: 'boolean', default: false } },
});
const quick = values.quick;
const sizeBytes = Number(values['size-mib'] ?? (quick ? '16' : '256')) * mebibyte;
const calls = Number(values.calls ?? (quick ? '20' : '200'));
/** The CSV comparison: the 100 MiB file, five interleaved runs (32 MiB, three when quick). */
const csvBench = quick ? { sizeBytes: 32 * mebibyte, runs: 3 } : { sizeBytes: 100 * mebibyte, runs: 5 };
if (!Number.isInteger(sizeBytes) || sizeBytes <= 0 || !Number.isInteger(calls) || calls <= 0) {
  console.error('usage: npm run bench [-- analyzers|csv|system] [--size-mib N] [--calls N] [--quick]');
  process.exit(2);
}
const sections = positionals.length > 0 ? positionals : ['analyzers', 'csv', 'system'];
const rootDir = new URL('..', import.meta.url).pathname;
const machine = `${os.cpus().length} × ${os.cpus()[0]?.model.trim() ?? 'cpu'}, Node ${process.version}`;
const recorded: { name: string; rows: Array<Record<string, string>>; notes?: string[] }[] = [];
/** Prints a table and keeps it for bench/results.json. */
function show(name: string, rows: Array<Record<string, string>>, notes: string[] = []): void {
  console.log(table(rows));
  for (const note of notes) console.log(`\n${note}`);
  recorded.push({ name, rows, ...(notes.length > 0 ? { notes } : {}) });
}

console.log(`# Sluice benchmarks — ${new Date().toISOString().slice(0, 10)}, ${machine}${quick ? ' (quick)' : ''}\n`);

const built = await buildProject(rootDir);
console.log('## Bundles\n');
console.log(table(built.sort((a, b) => a.qualifiedName.localeCompare(b.qualifiedName)).map((fn) => ({ function: fn.qualifiedName, size: formatBytes(fn.bytes) }))));

if (sections.includes('analyzers')) {
  console.log(`\n## Analyzers (in process, ${sizeBytes / mebibyte} MiB each)\n`);
  show('analyzers', await benchAnalyzers(sizeBytes));
}

if (sections.includes('csv')) {
  console.log(`\n## CSV profile against anchors (same runs, one core, ${csvBench.sizeBytes / mebibyte} MiB file)\n`);
  const csv = await benchCsv(csvBench.sizeBytes, csvBench.runs);
  show('csv', csv.rows, csv.notes);
}

if (sections.includes('system')) {
  console.log('\n## The local platform\n');
  const { platform, startMs } = await startBenchPlatform({ MULTIPART_THRESHOLD_BYTES: String(64 * mebibyte) });
  try {
    console.log(`Start (fresh Postgres cluster, S3 server, runtime, page): ${(startMs / 1000).toFixed(1)} s\n`);
    show('latency', await benchLatency(platform, calls));
    console.log();
    show('upload', await benchUpload(platform, sizeBytes));
    console.log();
    const rows = [];
    for (const kind of ['csv', 'binary'] as const) {
      rows.push(await benchProcessing(platform, kind, sizeBytes));
      console.log(`  processing: ${kind} done`);
    }
    show('processing', rows);
  } finally {
    await platform.stop();
  }
}

writeFileSync(
  new URL('../bench/results.json', import.meta.url),
  `${JSON.stringify({ date: new Date().toISOString(), machine, quick, sizeBytes, sections, tables: recorded }, null, 2)}\n`,
);
