import { describe, expect, it } from 'vitest';
import type { CsvSummary } from '../../src/analyzers/csv.js';
import type { FileSummary } from '../../src/analyzers/file.js';
import type { JsonSummary } from '../../src/analyzers/json.js';
import type { NdjsonSummary } from '../../src/analyzers/ndjson.js';
import { analyzers } from '../../src/analyzers/index.js';
import { resultBudgetBytes } from '../../src/analyzers/result-budget.js';
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
  const resultBytes = Buffer.byteLength(JSON.stringify(report.results));
  console.log(
    `${name}: ${(report.bytes / mebibyte).toFixed(0)} MiB in ${seconds.toFixed(1)} s = ${(report.bytes / mebibyte / seconds).toFixed(1)} MiB/s` +
      ` through ${report.ran.join(', ')}; memory growth ${(growth / mebibyte).toFixed(1)} MiB; result ${resultBytes} bytes;` +
      ` ms per analyzer ${JSON.stringify(report.timingsMs)}`,
  );
  return { report, growth };
}

const encode = (text: string): Uint8Array => new TextEncoder().encode(text);

/** Every summary within its analyzer's budget, and the whole result within resultBudgetBytes. */
function expectWithinBudgets(report: AnalysisReport): void {
  expect(Buffer.byteLength(JSON.stringify(report.results))).toBeLessThanOrEqual(resultBudgetBytes);
  for (const [name, summary] of Object.entries(report.results)) {
    const budget = analyzers.find((analyzer) => analyzer.name === name)?.summaryBudgetBytes;
    if (budget !== undefined) expect({ name, bytes: Buffer.byteLength(JSON.stringify(summary)) <= budget }).toEqual({ name, bytes: true });
    expect(summary).not.toHaveProperty('truncatedToBudget');
  }
}

/** A JPEG whose frame header sits behind `segments` APP1 segments of 64 KiB filler (EXIF, ICC, thumbnails). */
async function* jpegBehindSegments(segments: number, peak: { bytes: number }): AsyncGenerator<Uint8Array> {
  yield Uint8Array.of(0xff, 0xd8);
  const segment = new Uint8Array(65_535 + 2).fill(0xff);
  segment.set([0xff, 0xe1, 0xff, 0xff]);
  for (let index = 0; index < segments; index += 1) {
    if (index % samplingEveryChunks === 0) peak.bytes = Math.max(peak.bytes, memoryInUse());
    yield segment.slice();
  }
  // SOF0: length 11, precision 8, height 1, width 2, one component.
  yield Uint8Array.of(0xff, 0xc0, 0x00, 0x0b, 8, 0x00, 0x01, 0x00, 0x02, 1, 1, 0x11, 0, 0xff, 0xd9);
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

describe('hostile shapes stay in flat memory and within the result budget', () => {
  const size = 64 * mebibyte;
  const letters = (byte: number): Uint8Array => new Uint8Array(64 * 1024).fill(byte);

  it('text: one endless line', { timeout: 90_000 }, async () => {
    const block = encode('words without end, ünïcödé and all '.repeat(1900));
    const { report, growth } = await measure('endless-line.txt', (peak) => generated(new Uint8Array(0), block, new Uint8Array(0), size, peak), 'text/plain');
    const text = report.results.text as TextSummary;
    expect(text).toMatchObject({ lines: 1, longestLineNumber: 1, longestLineCharacters: text.characters, endsWithNewline: false });
    expectWithinBudgets(report);
    expect(growth).toBeLessThan(maxMemoryGrowthBytes);
  });

  it('json: one endless string', { timeout: 90_000 }, async () => {
    const { report, growth } = await measure('endless-string.json', (peak) => generated(encode('["'), letters(0x61), encode('"]'), size, peak), 'application/json');
    expect(report.results.json).toMatchObject({ valid: true, records: 1 } satisfies Partial<JsonSummary>);
    expectWithinBudgets(report);
    expect(growth).toBeLessThan(maxMemoryGrowthBytes);
  });

  it('json: deep nesting', { timeout: 90_000 }, async () => {
    const { report, growth } = await measure('deep.json', (peak) => generated(new Uint8Array(0), letters(0x5b), new Uint8Array(0), size, peak), 'application/json');
    expect(report.results.json).toMatchObject({ valid: false, maxDepth: 100_000 } satisfies Partial<JsonSummary>);
    expectWithinBudgets(report);
    expect(growth).toBeLessThan(maxMemoryGrowthBytes);
  });

  it('json: one huge key', { timeout: 90_000 }, async () => {
    const { report, growth } = await measure('huge-key.json', (peak) => generated(encode('{"'), letters(0x6b), encode('": 1}'), size, peak), 'application/json');
    const json = report.results.json as JsonSummary;
    expect(json).toMatchObject({ valid: true, keyCount: 1 });
    expect(json.keys[0]).toHaveLength(256);
    expectWithinBudgets(report);
    expect(growth).toBeLessThan(maxMemoryGrowthBytes);
  });

  it('json: millions of distinct keys', { timeout: 90_000 }, async () => {
    let next = 0;
    const keys = (peak: { bytes: number }) =>
      (async function* () {
        yield encode('{"first": 0');
        for (let produced = 0; produced < size; ) {
          if (next % 20_000 === 0) peak.bytes = Math.max(peak.bytes, memoryInUse());
          const block = encode(Array.from({ length: 5000 }, () => `,"key ${next++}": ${next}`).join(''));
          produced += block.length;
          yield block;
        }
        yield encode('}');
      })();
    const { report, growth } = await measure('many-keys.json', keys, 'application/json');
    expect(report.results.json).toMatchObject({ valid: true, keyCount: 100_000, keyCountExact: false, keysTruncated: true } satisfies Partial<JsonSummary>);
    expectWithinBudgets(report);
    expect(growth).toBeLessThan(maxMemoryGrowthBytes);
  });

  it('ndjson: one endless line', { timeout: 90_000 }, async () => {
    const { report, growth } = await measure('endless.ndjson', (peak) => generated(encode('{"a": "'), letters(0x61), encode('"}'), size, peak), 'application/x-ndjson');
    expect(report.results.ndjson).toMatchObject({ valid: true, lines: 1, records: 1, keys: ['a'] } satisfies Partial<NdjsonSummary>);
    expectWithinBudgets(report);
    expect(growth).toBeLessThan(maxMemoryGrowthBytes);
  });

  it('ndjson: deep nesting and a huge key on one line', { timeout: 90_000 }, async () => {
    const block = encode(`${'['.repeat(32 * 1024)}\n{"${'k'.repeat(32 * 1024)}": 1}\n`);
    const { report, growth } = await measure('hostile.ndjson', (peak) => generated(new Uint8Array(0), block, new Uint8Array(0), size, peak), 'application/x-ndjson');
    const ndjson = report.results.ndjson as NdjsonSummary;
    expect(ndjson).toMatchObject({ valid: false, keyCount: 1 });
    expect(ndjson.firstBadLines[0]).toEqual({ line: 1, error: 'Unexpected end of JSON input at the end of the line' });
    expect(ndjson.badLines).toBe(ndjson.records);
    expectWithinBudgets(report);
    expect(growth).toBeLessThan(maxMemoryGrowthBytes);
  });

  it('image: a JPEG frame header behind 64 MiB of segments', { timeout: 90_000 }, async () => {
    const { report, growth } = await measure('exif-heavy.jpg', (peak) => jpegBehindSegments(1024, peak), 'image/jpeg');
    expect(report.results.image).toMatchObject({ valid: true, format: 'jpeg', width: 2, height: 1 });
    expectWithinBudgets(report);
    expect(growth).toBeLessThan(maxMemoryGrowthBytes);
  });
});
