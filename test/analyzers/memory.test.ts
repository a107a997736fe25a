import { describe, expect, it } from 'vitest';
import type { CsvSummary } from '../../src/analyzers/csv.js';
import type { FileSummary } from '../../src/analyzers/file.js';
import type { JsonSummary } from '../../src/analyzers/json.js';
import type { Analyzer } from '../../src/analyzers/types.js';
import { runAnalyzers, type AnalysisReport } from '../../src/analyzers/run.js';
import type { TextSummary } from '../../src/analyzers/text.js';

const mebibyte = 1024 * 1024;
/**
 * Growth of JS heap plus Buffer memory allowed while a stream runs. Far below the stream sizes,
 * so an analyzer that kept the data (or its chunks) would fail; generous for garbage that V8
 * collects lazily.
 */
const maxMemoryGrowthBytes = 48 * mebibyte;
const samplingEveryChunks = 32;

function memoryInUse(): number {
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

/**
 * Yields `opening`, then copies of `block` until `totalBytes`, then `closing`: a fresh buffer per
 * chunk like a network stream, so retained chunks would show up as memory growth.
 */
async function* generated(opening: Uint8Array, block: Uint8Array, closing: Uint8Array, totalBytes: number, peak: { bytes: number }) {
  yield opening;
  let produced = opening.length + closing.length;
  for (let chunk = 0; produced + block.length <= totalBytes; chunk += 1) {
    if (chunk % samplingEveryChunks === 0) peak.bytes = Math.max(peak.bytes, memoryInUse());
    produced += block.length;
    yield block.slice();
  }
  yield closing;
}

async function measure(
  name: string,
  stream: (peak: { bytes: number }) => AsyncIterable<Uint8Array>,
  contentType: string,
): Promise<{ report: AnalysisReport; growth: number }> {
  const baseline = memoryInUse();
  const peak = { bytes: baseline };
  const started = performance.now();
  const report = await runAnalyzers(stream(peak), { contentType, filename: name, size: 0 });
  const seconds = (performance.now() - started) / 1000;
  const growth = peak.bytes - baseline;
  console.log(
    `${name}: ${(report.bytes / mebibyte).toFixed(0)} MiB in ${seconds.toFixed(1)} s = ${(report.bytes / mebibyte / seconds).toFixed(1)} MiB/s` +
      ` through ${report.ran.join(', ')}; memory growth ${(growth / mebibyte).toFixed(1)} MiB; ms per analyzer ${JSON.stringify(report.timingsMs)}`,
  );
  return { report, growth };
}

describe('streaming memory', () => {
  it('runs 200 MiB of JSON through file, text and json analyzers in flat memory', { timeout: 90_000 }, async () => {
    const records = Array.from({ length: 400 }, (_, index) =>
      JSON.stringify({ id: index, name: `Ünïcode name ${index}`, tags: ['a', 'b'], score: index * 1.5, ok: index % 2 === 0 }),
    );
    const block = new TextEncoder().encode(`${records.join(',\n')},\n`);
    const { report, growth } = await measure(
      'big.json',
      (peak) => generated(new TextEncoder().encode('['), block, new TextEncoder().encode('{"last": true}]\n'), 200 * mebibyte, peak),
      'application/json',
    );
    expect(report.ran).toEqual(['file', 'text', 'json']);
    expect(report.bytes).toBeGreaterThan(199 * mebibyte);
    const blocks = Math.floor((200 * mebibyte - 17) / block.length);
    expect(report.results.json).toMatchObject({ valid: true, topLevelType: 'array', records: blocks * 400 + 1 } satisfies Partial<JsonSummary>);
    expect((report.results.text as TextSummary).utf8Valid).toBe(true);
    expect((report.results.file as FileSummary).size).toBe(report.bytes);
    expect(growth).toBeLessThan(maxMemoryGrowthBytes);
  });

  it('profiles 64 MiB of CSV in flat memory', { timeout: 90_000 }, async () => {
    const rows = Array.from({ length: 1000 }, (_, index) => `${index},"Name ${index}, Jr",${(index * 1.37).toFixed(2)},2024-05-${String((index % 28) + 1).padStart(2, '0')},${index % 2 === 0}`);
    const block = new TextEncoder().encode(`${rows.join('\n')}\n`);
    const { report, growth } = await measure(
      'big.csv',
      (peak) => generated(new TextEncoder().encode('id,name,amount,day,flag\n'), block, new Uint8Array(0), 64 * mebibyte, peak),
      'text/csv',
    );
    expect(report.ran).toEqual(['file', 'text', 'csv']);
    const csv = report.results.csv as CsvSummary;
    expect(csv).toMatchObject({ valid: true, rows: Math.floor((64 * mebibyte - 24) / block.length) * 1000, columns: 5 });
    expect(csv.columnProfiles.map((column) => column.type)).toEqual(['integer', 'string', 'number', 'date', 'boolean']);
    expect(growth).toBeLessThan(maxMemoryGrowthBytes);
  });

  it('would notice an analyzer that keeps the data (control for the bound above)', { timeout: 30_000 }, async () => {
    const kept: Uint8Array[] = [];
    const hoarder: Analyzer = {
      name: 'hoarder',
      accepts: () => true,
      create: () => ({
        write: (chunk) => {
          kept.push(chunk);
        },
        finish: async () => ({ chunks: kept.length }),
      }),
    };
    const block = new Uint8Array(64 * 1024).fill(0x61);
    const baseline = memoryInUse();
    const peak = { bytes: baseline };
    await runAnalyzers(generated(block, block, block, 128 * mebibyte, peak), { contentType: 'text/plain', filename: 'x', size: 0 }, { analyzers: [hoarder] });
    expect(peak.bytes - baseline).toBeGreaterThan(maxMemoryGrowthBytes);
    kept.length = 0;
  });
});
