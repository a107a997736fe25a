// `npm run bench [-- analyzers|csv|system|memory] [--size-mib N] [--sizes MiB,…] [--quick]`: speed
// and memory, measured — not asserted in tests. Prints markdown tables and keeps them in
// bench/results.json (each table from the last run that measured it); the README's figures come
// from this script on the dev machine. `--quick` (smaller files, fewer runs; memory at 100 MiB
// only, one run) finishes in a few minutes.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { benchAnalyzers } from '../bench/analyzers.js';
import { benchCsv } from '../bench/csv.js';
import { mebibyte, table } from '../bench/measure.js';
import { benchMemory, memoryRuns, memorySizesMiB } from '../bench/memory.js';
import { benchLatency, benchProcessing, benchUpload, startBenchPlatform } from '../bench/system.js';
import { buildProject, formatBytes } from '../src/local/build.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { 'size-mib': { type: 'string' }, sizes: { type: 'string' }, calls: { type: 'string' }, quick: { type: 'boolean', default: false } },
});
const quick = values.quick;
const sizeBytes = Number(values['size-mib'] ?? (quick ? '16' : '256')) * mebibyte;
const calls = Number(values.calls ?? (quick ? '20' : '200'));
/** The CSV comparison: the 100 MiB file, five interleaved runs (32 MiB, three when quick). */
const csvBench = quick ? { sizeBytes: 32 * mebibyte, runs: 3 } : { sizeBytes: 100 * mebibyte, runs: 5 };
/** The worker's peak memory per file size, in MiB: 100 MiB, 1 GiB and 4 GiB (100 MiB once when quick). */
const memorySizes = values.sizes?.split(',').map(Number) ?? (quick ? memorySizesMiB.slice(0, 1) : memorySizesMiB);
const allSections = ['analyzers', 'csv', 'system', 'memory'];
const sections = positionals.length > 0 ? positionals : allSections;
if (
  !Number.isInteger(sizeBytes) ||
  sizeBytes <= 0 ||
  !Number.isInteger(calls) ||
  calls <= 0 ||
  !memorySizes.every((size) => Number.isInteger(size) && size > 0) ||
  !sections.every((section) => allSections.includes(section))
) {
  console.error('usage: npm run bench [-- analyzers|csv|system|memory] [--size-mib N] [--sizes MiB,…] [--calls N] [--quick]');
  process.exit(2);
}
const rootDir = new URL('..', import.meta.url).pathname;
const machine = `${os.cpus().length} × ${os.cpus()[0]?.model.trim() ?? 'cpu'}, Node ${process.version}`;
/** What a run was measured on: each table in bench/results.json keeps the run that made it. */
interface Run {
  date: string;
  machine: string;
  quick: boolean;
  sizeBytes: number;
  /** The 1-, 5- and 15-minute load averages as the run ended (uptime's). */
  load?: string;
}
type Recorded = { name: string; rows: Array<Record<string, string>>; notes?: string[]; run?: Run };
const recorded: Recorded[] = [];
/** Prints a table and keeps it for bench/results.json. */
function show(name: string, rows: Array<Record<string, string>>, notes: string[] = []): void {
  console.log(table(rows));
  for (const note of notes) console.log(`\n${note}`);
  recorded.push({ name, rows, ...(notes.length > 0 ? { notes } : {}) });
}
const resultsFile = new URL('../bench/results.json', import.meta.url);
/**
 * This run's tables in bench/results.json in place of the same tables of earlier runs, which are
 * kept otherwise (`npm run bench -- memory` leaves the analyzer figures alone), each with its run.
 */
function mergedTables(run: Run): Recorded[] {
  const fresh = recorded.map((entry) => ({ ...entry, run }));
  if (!existsSync(resultsFile)) return fresh;
  const earlier = JSON.parse(readFileSync(resultsFile, 'utf8')) as Run & { tables: Recorded[] };
  const { date, machine, quick: wasQuick, sizeBytes: earlierSize } = earlier;
  const kept = earlier.tables.map((entry) => fresh.find((current) => current.name === entry.name) ?? { ...entry, run: entry.run ?? { date, machine, quick: wasQuick, sizeBytes: earlierSize } });
  return [...kept, ...fresh.filter((current) => !kept.includes(current))];
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

if (sections.includes('memory')) {
  const runsOf = quick ? () => 1 : memoryRuns;
  const runs = memorySizes.map((size) => `${size} MiB × ${runsOf(size * mebibyte)}`).join(', ');
  console.log(`\n## process/file worker peak memory, a fresh worker per file (${runs})\n`);
  const { platform } = await startBenchPlatform();
  try {
    const memory = await benchMemory(platform, memorySizes, runsOf);
    show('memory', memory.rows, memory.notes);
  } finally {
    await platform.stop();
  }
}

const run: Run = { date: new Date().toISOString(), machine, quick, sizeBytes, load: os.loadavg().map((load) => load.toFixed(2)).join(', ') };
writeFileSync(resultsFile, `${JSON.stringify({ ...run, sections, tables: mergedTables(run) }, null, 2)}\n`);
