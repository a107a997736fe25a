// The analyzers alone, in this process, against anchors measured in the same runs: one read of a
// file through every analyzer that accepts it (as process/file does), next to reading the same
// file, hashing it (SHA-256) and, for JSON and NDJSON, JSON.parse of the same bytes. Runs are
// interleaved (every measurement once, then all again) and every claim is a ratio taken within
// one pass, so a busy machine moves both sides alike. Throughput is bytes per second of the
// process's CPU time (user + system, every thread), the work of one core, which a shared machine
// disturbs far less than wall time; wall time is shown beside it, as in bench/csv.ts (the CSV
// profile's own comparison).
import { createWriteStream, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { runAnalyzers } from '../src/analyzers/run.js';
import { residentBytes } from '../test/helpers/processes.js';
import { generate, inputContentTypes } from './generate.js';
import { fileAnchors, figure, mebibyte, peakSampler, readStream, stats, type Measured } from './measure.js';

/** Interleaved runs per measurement: the median of five is robust to one disturbed run. */
export const analyzerRuns = 5;
/**
 * The goals (MB/s, all analyzers that run on the file) and the SHA-256 rate of the machine
 * they were set on (about 1,500 MB/s), so a goal reads as a ratio to the same-run anchor too.
 */
const goals = { text: 400, json: 150, ndjson: 150 } as const;
const goalMachineSha256MegabytesPerSecond = 1500;

type Kind = 'text' | 'json' | 'ndjson' | 'binary';

const contentTypes: Record<Kind, string> = { ...inputContentTypes, json: 'application/json' };


/** The NDJSON generator's records, whole lines only (it cuts the last one at the exact size). */
async function* wholeLines(totalBytes: number): AsyncGenerator<Uint8Array> {
  let carry = '';
  for await (const chunk of generate('ndjson', totalBytes)) {
    const text = carry + Buffer.from(chunk).toString();
    const end = text.lastIndexOf('\n') + 1;
    carry = text.slice(end);
    if (end > 0) yield Buffer.from(text.slice(0, end));
  }
}

/** One JSON array of the NDJSON generator's records, about `totalBytes` long. */
async function* jsonDocument(totalBytes: number): AsyncGenerator<Uint8Array> {
  yield Buffer.from('[');
  let first = true;
  let carry = '';
  for await (const chunk of generate('ndjson', totalBytes)) {
    const lines = (carry + Buffer.from(chunk).toString()).split('\n');
    carry = lines.pop() ?? '';
    if (lines.length === 0) continue;
    yield Buffer.from(`${first ? '' : ',\n'}${lines.join(',\n')}`);
    first = false;
  }
  yield Buffer.from(']\n');
}

const anchors = fileAnchors;

/** What a user's script would do with the same bytes: read, decode, JSON.parse (per line for NDJSON). */
const parseAnchors: Partial<Record<Kind, Measured>> = {
  json: { name: 'JSON.parse', run: async (file) => JSON.parse(readFileSync(file, 'utf8')) as unknown },
  ndjson: {
    name: 'JSON.parse per line',
    run: async (file) => {
      let records = 0;
      for (const line of readFileSync(file, 'utf8').split('\n')) {
        if (line !== '') {
          JSON.parse(line);
          records += 1;
        }
      }
      return records;
    },
  },
};

const times = (value: number) => `${value.toFixed(2)}×`;

/**
 * For text, JSON, NDJSON and binary files of `sizeBytes`: throughput in MB/s (10^6 bytes per CPU
 * second, as the goals are stated) of the analyzers, median (min–max) over `runs` interleaved
 * runs, the wall-time median beside it, the analyzers' ratio to each anchor per run ("of" its
 * median MB/s), and the peak RSS growth.
 */
export async function benchAnalyzers(sizeBytes: number, runs = analyzerRuns): Promise<Array<Record<string, string>>> {
  const directory = await mkdtemp(path.join(os.tmpdir(), 'sluice-bench-analyzers-'));
  const rows: Array<Record<string, string>> = [];
  try {
    for (const kind of ['text', 'json', 'ndjson', 'binary'] as Kind[]) {
      const file = path.join(directory, `bench.${kind}`);
      const input = kind === 'json' ? jsonDocument(sizeBytes) : kind === 'ndjson' ? wholeLines(sizeBytes) : generate(kind, sizeBytes);
      await pipeline(input, createWriteStream(file));
      const bytes = readFileSync(file).length;
      let ran = '';
      let peakGrowth = 0;
      const analyzers: Measured = {
        name: 'analyzers',
        run: async (input) => {
          globalThis.gc?.();
          const baseline = residentBytes(process.pid) ?? 0;
          const sampler = peakSampler(() => residentBytes(process.pid));
          const report = await runAnalyzers(readStream(input), { contentType: contentTypes[kind], filename: `bench.${kind}`, size: bytes });
          peakGrowth = Math.max(peakGrowth, sampler.stop() - baseline);
          if (report.crashed.length > 0) throw new Error(`bench ${kind}: ${report.crashed.join(', ')} crashed`);
          ran = report.ran.join(' + ');
        },
      };
      const parse = parseAnchors[kind];
      const measured = [analyzers, ...anchors, ...(parse === undefined ? [] : [parse])];
      const rates = new Map<string, number[]>(measured.map((entry) => [entry.name, []]));
      const wallRates = new Map<string, number[]>(measured.map((entry) => [entry.name, []]));
      for (let run = 0; run < runs; run += 1) {
        for (const entry of measured) {
          globalThis.gc?.();
          const cpuBefore = process.cpuUsage();
          const started = performance.now();
          await entry.run(file);
          wallRates.get(entry.name)?.push(bytes / 1e6 / ((performance.now() - started) / 1000));
          const cpu = process.cpuUsage(cpuBefore);
          rates.get(entry.name)?.push(bytes / 1e6 / ((cpu.user + cpu.system) / 1e6));
        }
      }
      const own = rates.get('analyzers') ?? [];
      const ratio = (name: string) => stats(own.map((rate, run) => rate / ((rates.get(name) ?? [])[run] as number)));
      const speed = stats(own);
      const vsSha = ratio('SHA-256');
      const goal = kind === 'binary' ? undefined : goals[kind];
      const against = (name: string | undefined) => {
        if (name === undefined) return '—';
        const { median, min, max } = ratio(name);
        return `${times(median)} (${times(min)}–${times(max)}) of ${figure(stats(rates.get(name) ?? []).median)}`;
      };
      rows.push({
        input: `${kind}, ${(bytes / 1e6).toFixed(0)} MB`,
        analyzers: ran,
        'MB/s (CPU) median (min–max)': `${figure(speed.median)} (${figure(speed.min)}–${figure(speed.max)})`,
        'wall MB/s median': figure(stats(wallRates.get('analyzers') ?? []).median),
        '÷ read the file': against('read the file'),
        '÷ SHA-256': against('SHA-256'),
        '÷ JSON.parse of the same bytes': against(parse?.name),
        goal:
          goal === undefined
            ? '—'
            : `≥ ${goal} MB/s ≈ ${times(goal / goalMachineSha256MegabytesPerSecond)} SHA-256: ${vsSha.median * goalMachineSha256MegabytesPerSecond >= goal ? 'met' : 'not met'} by ratio, ${speed.median >= goal ? 'met' : 'not met'} here`,
        'RSS growth': `${Math.max(0, Math.round(peakGrowth / mebibyte))} MiB`,
      });
      console.log(`  analyzers: ${kind} done`);
    }
    return rows;
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}
