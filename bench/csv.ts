// The CSV profile against what a user would otherwise run, on one generated file, one core:
// every figure is a median with min and max over interleaved runs, and the claims are ratios
// against anchors measured in the same runs (reading the file, SHA-256, csv-parse, DuckDB's
// SUMMARIZE with one thread), so a busy machine moves both sides of a ratio alike. Throughput is
// bytes per second of the process's CPU time (user + system, every thread: DuckDB runs one), the
// work one core does, which a shared machine disturbs far less than wall time; wall time is
// shown beside it.
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parse } from 'csv-parse';
import { build } from 'esbuild';
import { generate } from './generate.js';
import { fileAnchors, figure, readStream, stats, type Measured } from './measure.js';

type AnalyzersModule = typeof import('../src/analyzers/run.js') & typeof import('../src/analyzers/csv.js');

/**
 * The analyzers as process/file runs them: one esbuild bundle (CommonJS, Node 20). Loaded
 * through tsx, as the rest of the benchmark is, the same code ran about 1.6 times slower here.
 */
async function bundledAnalyzers(directory: string): Promise<AnalyzersModule> {
  const outfile = path.join(directory, 'analyzers.cjs');
  const sourceDir = new URL('../src/analyzers/', import.meta.url).pathname;
  await build({
    stdin: { contents: "export { runAnalyzers } from './run.ts'; export { csvAnalyzer } from './csv.ts';", resolveDir: sourceDir, loader: 'ts' },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile,
    logLevel: 'error',
  });
  return createRequire(import.meta.url)(outfile) as AnalyzersModule;
}

/** The issue's goals for the CSV profile (file + text + csv analyzers). */
const goalMegabytesPerSecond = 100;
const goalTimesDuckDb = 2;



async function duckDbSummarize(): Promise<Measured | string> {
  let api: typeof import('@duckdb/node-api');
  try {
    api = await import('@duckdb/node-api');
  } catch (error) {
    return `DuckDB not measured: @duckdb/node-api did not load (${error instanceof Error ? error.message : String(error)})`;
  }
  // One thread, as the profile has one core; a fresh connection per run, the file read anew.
  const instance = await api.DuckDBInstance.create(':memory:', { threads: '1' });
  return {
    name: 'DuckDB SUMMARIZE (1 thread)',
    run: async (file) => {
      const connection = await instance.connect();
      const reader = await connection.runAndReadAll(`SUMMARIZE SELECT * FROM read_csv('${file.replaceAll("'", "''")}')`);
      connection.closeSync();
      return reader.getRowObjects().length;
    },
  };
}

const anchors: Measured[] = [
  ...fileAnchors,
  {
    name: 'csv-parse (tokenize only)',
    run: async (file) => {
      let records = 0;
      for await (const _record of readStream(file).pipe(parse({ relax_column_count: true, relax_quotes: true }))) records += 1;
      return records;
    },
  },
];

const profiles = ({ runAnalyzers, csvAnalyzer }: AnalyzersModule): Measured[] => [
  {
    name: 'CSV profile (file + text + csv)',
    run: async (file) => {
      const report = await runAnalyzers(readStream(file), { contentType: 'text/csv', filename: 'bench.csv', size: 0 });
      if (report.crashed.length > 0 || !report.ran.includes('csv')) throw new Error(`bench profile ran ${report.ran.join(', ')}, crashed ${report.crashed.join(', ')}`);
      return report.results.csv;
    },
  },
  {
    name: 'csv analyzer alone',
    run: (file) => runAnalyzers(readStream(file), { contentType: 'text/csv', filename: 'bench.csv', size: 0 }, { analyzers: [csvAnalyzer] }),
  },
];


/**
 * Generates a CSV of `sizeBytes`, then runs every measurement once untimed and `runs` times
 * timed, interleaved (all of them once, then all again), and returns the table rows: throughput in MB/s (10^6 bytes per
 * second, as the goals are stated) and the ratios the goals are about.
 */
export async function benchCsv(sizeBytes: number, runs: number): Promise<{ rows: Array<Record<string, string>>; notes: string[] }> {
  const directory = await mkdtemp(path.join(os.tmpdir(), 'sluice-bench-csv-'));
  const file = path.join(directory, 'bench.csv');
  const notes: string[] = [];
  try {
    await pipeline(generate('csv', sizeBytes), createWriteStream(file));
    const duckDb = await duckDbSummarize();
    if (typeof duckDb === 'string') notes.push(duckDb);
    const analyzers = await bundledAnalyzers(directory);
    // The profiles first in each round: csv-parse leaves a large heap of garbage behind (an array
    // per record), and collecting it during the next measurement would be charged to that one.
    const measured = [...profiles(analyzers), ...(typeof duckDb === 'string' ? [] : [duckDb]), ...anchors];
    const cpuSeconds = new Map<string, number[]>(measured.map((entry) => [entry.name, []]));
    const wallSeconds = new Map<string, number[]>(measured.map((entry) => [entry.name, []]));
    // One untimed round first: the JavaScript ones run optimised code from the start of the
    // timed runs, as in a warm function container, and DuckDB has its extension loaded.
    for (const entry of measured) await entry.run(file);
    for (let run = 0; run < runs; run += 1) {
      for (const entry of measured) {
        globalThis.gc?.();
        const cpuBefore = process.cpuUsage();
        const started = performance.now();
        await entry.run(file);
        wallSeconds.get(entry.name)?.push((performance.now() - started) / 1000);
        const cpu = process.cpuUsage(cpuBefore);
        cpuSeconds.get(entry.name)?.push((cpu.user + cpu.system) / 1e6);
      }
      console.log(`  csv: run ${run + 1} of ${runs} done`);
    }
    const rate = (name: string, seconds = cpuSeconds) => (seconds.get(name) ?? []).map((time) => sizeBytes / 1e6 / time);
    const rows: Array<Record<string, string>> = measured.map(({ name }) => {
      const { median, min, max } = stats(rate(name));
      return { measurement: name, 'MB/s (CPU) median': figure(median), min: figure(min), max: figure(max), 'wall MB/s median': figure(stats(rate(name, wallSeconds)).median) };
    });
    // Ratios per run (both sides from the same pass), then their median and range.
    const profileName = 'CSV profile (file + text + csv)';
    const profileRates = rate(profileName);
    const profileWall = rate(profileName, wallSeconds);
    const ratio = (label: string, name: string, goal: string) => {
      const against = rate(name);
      const againstWall = rate(name, wallSeconds);
      const { median, min, max } = stats(profileRates.map((value, run) => value / (against[run] as number)));
      const wall = stats(profileWall.map((value, run) => value / (againstWall[run] as number))).median;
      rows.push({ measurement: label, 'MB/s (CPU) median': `${median.toFixed(2)}×`, min: `${min.toFixed(2)}×`, max: `${max.toFixed(2)}×`, 'wall MB/s median': `${wall.toFixed(2)}×${goal === '' ? '' : ` (${goal})`}` });
    };
    if (typeof duckDb !== 'string') ratio('CSV profile ÷ DuckDB SUMMARIZE', duckDb.name, `goal ≥ ${goalTimesDuckDb}×`);
    ratio('CSV profile ÷ csv-parse', 'csv-parse (tokenize only)', '');
    ratio('CSV profile ÷ SHA-256', 'SHA-256', '');
    const profile = stats(profileRates);
    notes.push(
      `CSV profile: ${figure(profile.median)} MB/s of CPU time, median of ${runs} (goal ≥ ${goalMegabytesPerSecond} MB/s), ` +
        `on ${(sizeBytes / 1e6).toFixed(0)} MB, 7 mixed columns with quoted commas, quotes and line breaks; analyzers bundled as deployed, ` +
        'after one untimed round; ratios are per run, then their median and range.',
    );
    return { rows, notes };
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}
